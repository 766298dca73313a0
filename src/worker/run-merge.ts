// Merging sorted run files into one (map-side spills), combining each key's values if asked.
import { compareKeys } from '../core/key-order.ts';
import { groupSorted, mergeSorted } from '../core/kway-merge.ts';
import type { KeyValue } from '../core/record-codec.ts';
import { RunWriter, runSource } from '../storage/run-file.ts';

export const byKey = (a: KeyValue, b: KeyValue): number => compareKeys(a[0], b[0]);

/** Merges the runs into target; returns its size in bytes and its record count. */
export async function mergeRunsInto(runs: string[], target: string, combine?: (key: string, values: unknown[]) => unknown): Promise<{ bytes: number; records: number }> {
  const out = await RunWriter.create(target);
  const merged = mergeSorted(runs.map(runSource), byKey);
  if (combine) {
    await groupSorted(merged, (key, values) => out.write(key, values.length === 1 ? values[0] : combine(key, values)));
  } else {
    for await (const batch of merged) {
      for (const [key, value] of batch) {
        const flushing = out.write(key, value);
        if (flushing) await flushing;
      }
    }
  }
  return { bytes: await out.close(), records: out.records };
}
