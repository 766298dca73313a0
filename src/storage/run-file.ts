// Sorted run files of intermediate records (map outputs, spills, fetched partitions).
import { decodeRecords, encodeRecord, type KeyValue } from '../core/record-codec.ts';
import type { BatchSource } from '../core/kway-merge.ts';
import { readLineBatches } from './line-reader.ts';
import { TextWriter } from './text-writer.ts';

export class RunWriter {
  records = 0;
  private constructor(private readonly out: TextWriter) {}

  static async create(path: string): Promise<RunWriter> {
    return new RunWriter(await TextWriter.create(path));
  }

  write(key: string, value: unknown): Promise<void> | undefined {
    this.records++;
    return this.out.write(encodeRecord(key, value));
  }

  close(): Promise<number> {
    return this.out.close();
  }
}

/** A run file read back as a source of sorted records for the k-way merge. */
export function runSource(path: string): BatchSource<KeyValue> {
  const batches = readLineBatches(path);
  return {
    async next() {
      const { value, done } = await batches.next();
      return done ? undefined : decodeRecords(value.lines);
    },
  };
}
