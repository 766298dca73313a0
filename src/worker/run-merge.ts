// Merging sorted run files into one (map-side spills), combining each key's values if asked.
import { compareKeys } from '../core/key-order.ts';
import { groupSorted, mergeSorted } from '../core/kway-merge.ts';
import type { KeyValue } from '../core/run-records.ts';
import { mergeBatchBytes, runSource, type RunWriter } from '../storage/run-file.ts';

export const byKey = (a: KeyValue, b: KeyValue): number => compareKeys(a[0], b[0]);

/** Merges the runs into out; returns the bytes written and the record count. moved: told of each batch merged (the task timeout's measure). */
export async function mergeRunsInto(
  runs: string[], out: RunWriter, combine?: (key: string, values: unknown[]) => unknown, moved: (records: number) => void = () => {},
): Promise<{ bytes: number; records: number }> {
  const batchBytes = mergeBatchBytes(runs.length);
  const merged = mergeSorted(runs.map((run) => runSource(run, batchBytes)), byKey);
  if (combine) {
    await groupSorted(merged, (key, values) => {
      moved(values.length);
      return out.write(key, values.length === 1 ? values[0] : combine(key, values));
    });
  } else {
    for await (const batch of merged) {
      for (const [key, value] of batch) {
        const flushing = out.write(key, value);
        if (flushing) await flushing;
      }
      moved(batch.length);
    }
  }
  return { bytes: await out.close(), records: out.records };
}
