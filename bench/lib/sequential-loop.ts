// The no-engine baseline: a job's own map, combine and reduce called in one plain loop in this
// process. What separates it from `mr run` is the engine's cost (processes, RPC, spills, sorting)
// and its gain (parallelism); both run the very same user code.
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { JobDefinition, MapContext } from 'mr';
import { formatValue, type WordCounts } from './word-counts.ts';

const CHUNK_BYTES = 16 * 1024 * 1024;
// Folding a key's values with combine once its list is this long keeps a frequent word's list
// short, as the engine's map-side combine does, so memory stays bounded by the vocabulary.
const COMBINE_AT = 1024;

/** Calls onLine for each line of a UTF-8 file, without its '\n' or a trailing '\r'. */
export async function forEachLine(file: string, onLine: (line: string) => void): Promise<void> {
  const handle = await open(file, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  // StringDecoder keeps a character split across two chunks whole, and turns bad bytes into U+FFFD.
  const decoder = new StringDecoder('utf8');
  let carry = '';
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      carry = emitLines(carry + decoder.write(buffer.subarray(0, bytesRead)), onLine);
    }
    const last = carry + decoder.end();
    if (last !== '') onLine(stripCr(last));
  } finally {
    await handle.close();
  }
}

/** Calls onLine for each complete line of text and returns the unfinished rest. */
function emitLines(text: string, onLine: (line: string) => void): string {
  let start = 0;
  for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
    onLine(stripCr(text.slice(start, newline)));
    start = newline + 1;
  }
  return text.slice(start);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Runs a 'lines' job over one file and returns key -> value formatted as the engine writes it. */
export async function runJobSequentially(job: JobDefinition, file: string): Promise<WordCounts> {
  const groups = new Map<string, unknown[]>();
  const emit = (key: string, value: unknown): void => {
    const values = groups.get(key);
    if (values === undefined) {
      groups.set(key, [value]);
      return;
    }
    values.push(value);
    if (job.combine && values.length >= COMBINE_AT) groups.set(key, [job.combine(key, values, { options: {} })]);
  };
  const ctx: MapContext = { file, options: {}, count: () => {} };
  await forEachLine(file, (line) => job.map(line, emit, ctx));
  const output: WordCounts = new Map();
  const reduceCtx = { options: {}, emit: () => { throw new Error('the sequential loop takes jobs that return their value'); } };
  for (const [key, values] of groups) output.set(key, formatValue(job.reduce(key, values, reduceCtx)));
  return output;
}
