// The byte-level reduce of a job whose reduce is a built-in aggregation (sum, count, min, max):
// every record of every run is folded into a KeyAggregator straight from its bytes, the keys
// are sorted once in byte order, and the part file is written from the bytes too. No string
// per key and no merge. It gives what the generic path gives, byte for byte; a run it cannot
// take (a value that is no number, a key that needs escaping or that the output format refuses)
// makes it give up before writing anything, and the generic path reduces the runs instead.
import { builtinOf } from '../core/builtins.ts';
import { sortByKeyBytes } from '../core/byte-order.ts';
import { KeyAggregator, type Aggregation } from '../core/key-aggregator.ts';
import type { JobDefinition } from '../core/job.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { numberAt, spanAt, type RecordSpan } from '../core/run-records.ts';
import { failpoint } from '../failpoints.ts';
import { wholeRecordChunks, type RunRef } from '../storage/run-file.ts';
import type { TextWriter } from '../storage/text-writer.ts';
import { bumpProgress } from './stall-watchdog.ts';

const READ_BYTES = 1 << 20;
const OUT_BLOCK_BYTES = 256 << 10;

/** The aggregation a job's reduce is, when it is a built-in one. */
export function aggregationOf(job: JobDefinition): Aggregation | undefined {
  const name = builtinOf(job.reduce);
  return name === 'sum' || name === 'count' || name === 'min' || name === 'max' ? name : undefined;
}

export interface ByteReduceFigures {
  groups: number;
}

/**
 * Reduces the runs into out; undefined when some record needs the generic path (nothing was
 * written then). between() runs after each chunk: progress, pausing, cancellation.
 */
export async function reduceAsBytes(
  aggregation: Aggregation, runs: RunRef[], out: TextWriter, progress: AttemptFigures, between: () => Promise<void>,
): Promise<ByteReduceFigures | undefined> {
  const table = new KeyAggregator(aggregation);
  const span: RecordSpan = { keyFrom: 0, keyTo: 0, escaped: false, valueAt: 0, end: 0 };
  for (const run of runs) {
    for await (const { data, done } of wholeRecordChunks(run, READ_BYTES)) {
      let at = 0;
      let records = 0;
      while (at < data.length && spanAt(data, at, data.length, span)) {
        if (span.escaped) return undefined;
        let value = 1;
        if (aggregation !== 'count') {
          const n = numberAt(data, span.valueAt);
          if (n === undefined) return undefined;
          value = n;
        }
        table.add(data, span.keyFrom, span.keyTo, value);
        at = span.end;
        records++;
      }
      done(at);
      progress.records = (progress.records ?? 0) + records;   // records folded: the task timeout's measure
      bumpProgress();
      await between();
    }
  }
  if (!keysFitOutput(table)) return undefined;
  await writeAggregates(table, out);
  return { groups: table.size };
}

/** A key with a tab or a newline cannot be an output line's key: the generic path says so, naming it. */
function keysFitOutput({ arena, starts, lengths, size }: KeyAggregator): boolean {
  for (let e = 0; e < size; e++) {
    for (let k = starts[e], end = k + lengths[e]; k < end; k++) {
      if (arena[k] === 9 || arena[k] === 10) return false;
    }
  }
  return true;
}

/** key<TAB>value lines in key byte order, each value as String() writes the number. */
async function writeAggregates(table: KeyAggregator, out: TextWriter): Promise<void> {
  const order = sortByKeyBytes(table, Int32Array.from({ length: table.size }, (_, i) => i));
  const { arena, starts, lengths, values } = table;
  let block = Buffer.allocUnsafe(OUT_BLOCK_BYTES);
  let used = 0;
  for (let i = 0; i < order.length; i++) {
    if (i === 0) failpoint('worker.reduce.after-first-key');
    const e = order[i];
    const length = lengths[e];
    if (used + length + 32 > block.length) {
      const flushing = out.write(block.subarray(0, used));
      if (flushing) await flushing;
      block = Buffer.allocUnsafe(Math.max(OUT_BLOCK_BYTES, length + 32));
      used = 0;
    }
    block.set(arena.subarray(starts[e], starts[e] + length), used);
    used += length;
    block[used++] = 9;
    used += block.write(String(values[e]), used, 'latin1');
    block[used++] = 10;
  }
  if (used > 0) await out.write(block.subarray(0, used));
}
