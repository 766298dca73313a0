// The byte-level map of a word count: a job whose map is the built-in countWords and whose
// combine is an aggregation is run over the raw bytes of its split into a WordTable, with no
// string per word, and leaves the same map output as its functions would through the generic path.
import { builtinOf } from '../core/builtins.ts';
import type { JobDefinition } from '../core/job.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { warmUpWordTables, type DrainedWords, type WordTable } from '../core/word-table.ts';
import { readLineChunks, readWhole, type LineChunk } from '../storage/line-reader.ts';
import type { InputSplit } from '../wires/messages.ts';
import { readAsSubmitted } from './input-snapshot.ts';
import { writeRuns, type OpenRun, type WrittenRuns } from './run-writing.ts';
import type { InputPosition, Tally } from './map-checkpoint.ts';

const NEWLINE = 10;
const SCAN_BYTES = 256 * 1024;   // bytes scanned between checks of the buffer, the clock and cancellation

/**
 * When the job can take the byte-level path, what a word's value is after its combine, from
 * how often it was seen: its count for sum, 1 for min and max (every emitted value is 1).
 */
export function wordCountPath(job: JobDefinition, inputMode: string): ((count: number) => number) | undefined {
  if (builtinOf(job.map) !== 'countWords' || job.partition !== undefined) return undefined;
  if (inputMode !== 'lines' && inputMode !== 'file') return undefined;
  const combine = builtinOf(job.combine);
  if (combine === 'sum') return (count) => count;
  if (combine === 'min' || combine === 'max') return () => 1;
  return undefined;
}

/**
 * Counts the words of the splits into table, the input read into `read` (which a resumed attempt
 * starts at its checkpoint's figures); returns how many words it has seen in all (the records a
 * map would have emitted). between(at): after each slice, with where the next line starts.
 */
export async function countWordsOfSplits(
  inputMode: string, splits: readonly InputSplit[], table: WordTable, read: Tally, progress: AttemptFigures,
  between: (at?: InputPosition) => Promise<void>,
): Promise<number> {
  warmUpWordTables();
  const wholeFile = inputMode === 'file';
  for (const [i, split] of splits.entries()) {
    for await (const { data, offset } of readAsSubmitted(split, () => chunksOf(split, wholeFile))) {
      for (let at = 0; at < data.length;) {
        let to = Math.min(data.length, at + SCAN_BYTES);
        if (to < data.length) {
          const nl = data.indexOf(NEWLINE, to - 1);  // a slice ends after a newline: words never cross it
          to = nl < 0 ? data.length : nl + 1;
        }
        const seen = table.scan(data, at, to);
        read.emitted += seen.words;
        read.records += seen.lines;
        read.bytes += to - at;
        progress.inputBytesRead = read.bytes;
        at = to;
        if (at === data.length && data[data.length - 1] !== NEWLINE) read.records++;   // the file's last line, without its newline
        await between(wholeFile ? undefined : { split: i, offset: offset + at });
      }
    }
  }
  if (wholeFile) read.records = splits.length;
  return read.emitted;
}

async function* chunksOf(split: InputSplit, wholeFile: boolean): AsyncGenerator<LineChunk> {
  if (!wholeFile) {
    yield* readLineChunks(split.path, split.start, split.end);
    return;
  }
  yield { data: await readWhole(split.path), offset: 0 };
}

/** Writes a drained table as one sorted run per partition, straight from its bytes: each word once, with its value. */
export function writeWords(
  drained: DrainedWords, valueOf: (count: number) => number, open: OpenRun, moved: (records: number) => void,
): Promise<WrittenRuns> {
  const { arena, starts, lengths, counts, partitions } = drained;
  return writeRuns(partitions.length, open, async (r, out) => {
    const order = partitions[r];
    for (let i = 0; i < order.length; i++) {
      const e = order[i];
      const flushing = out.writeRaw(arena, starts[e], starts[e] + lengths[e], valueOf(counts[e]));
      if (flushing) await flushing;
    }
    moved(order.length);
  });
}
