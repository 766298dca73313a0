// Writing one sorted run per partition, the shape every drain of a map task shares.
import type { RunWriter } from '../storage/run-file.ts';

/** Opens the run of partition r. */
export type OpenRun = (r: number) => Promise<RunWriter>;

/** The bytes and records of each partition's run. */
export interface WrittenRuns {
  bytes: number[];
  records: number[];
}

/** Opens partition r's run, lets `write` fill it, closes it; a failed write closes the run before it throws. */
export async function writeRuns(partitions: number, open: OpenRun, write: (r: number, out: RunWriter) => Promise<void>): Promise<WrittenRuns> {
  const bytes: number[] = [];
  const records: number[] = [];
  for (let r = 0; r < partitions; r++) {
    const out = await open(r);
    try {
      await write(r, out);
    } catch (error) {
      await out.close().catch(() => undefined); // a value that cannot be encoded: the file goes with the attempt
      throw error;
    }
    bytes.push(await out.close());
    records.push(out.records);
  }
  return { bytes, records };
}
