// Whether an input file is text mr can read: plain text, or gzip named .gz (read decompressed).
// Anything else that looks binary is refused before the job runs, not counted as garbage.
import { isObjectUrl } from './object-store.ts';
import { closeSync, openSync, readSync } from 'node:fs';
import { isGzipPath } from '../core/splits.ts';
import { InputNotTextError } from '../errors.ts';

/** How much of a file's start is looked at: enough for any text's first lines, cheap for thousands of files. */
export const SNIFF_BYTES = 8192;

const AS_TEXT = 'mr reads UTF-8 text and .gz files; give --binary-ok to read it as text anyway';

/** What is wrong with a file as input, and what to do, from its first bytes; undefined when it is fine. */
export function binaryReason(path: string, head: Buffer): string | undefined {
  const gzipMagic = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (isGzipPath(path)) {
    // A .gz name is always read decompressed, --binary-ok or not: only a rename reads it as text.
    return gzipMagic || head.length === 0 ? undefined : 'is named .gz but does not hold gzip data; rename it without .gz to read it as text';
  }
  if (gzipMagic) return `holds gzip data but its name does not end in .gz; rename it to name.gz to read it decompressed (${AS_TEXT})`;
  const nul = head.indexOf(0);
  if (nul >= 0) return `looks binary (a NUL byte at offset ${nul}); ${AS_TEXT}`;
  return undefined;
}

/**
 * Refuses the first input that is not text (in path order); binaryOk lets binary-looking files
 * through. Synchronous on purpose: nothing else waits on this process before its job is
 * submitted, and an open, a read and a close cost a few microseconds each this way against tens
 * through the thread pool (10,000 small files: about 60 ms against 400).
 */
export function checkInputsAreText(files: readonly string[], binaryOk: boolean): void {
  const buffer = Buffer.alloc(SNIFF_BYTES);
  for (const path of files) {
    if (binaryOk && !isGzipPath(path)) continue;
    if (isObjectUrl(path)) continue;   // an object is read as text; a binary one fails its map with the file named
    const reason = binaryReason(path, head(path, buffer));
    if (reason !== undefined) throw new InputNotTextError(`input file ${path} ${reason}`);
  }
}

function head(path: string, buffer: Buffer): Buffer {
  const fd = openSync(path, 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, SNIFF_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}
