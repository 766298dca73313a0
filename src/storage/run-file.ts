// Sorted run files of intermediate records (map outputs, spills, fetched partitions).
import { decodeRecords, encodeRecord, type KeyValue } from '../core/record-codec.ts';
import type { BatchSource } from '../core/kway-merge.ts';
import { readLineBatches } from './line-reader.ts';
import { TextWriter } from './text-writer.ts';

/** Where a run's text goes: a file (TextWriter) or a memory module. close() gives the byte count. */
export interface TextSink {
  write(text: string): Promise<void> | undefined;
  close(): Promise<number>;
}

export class RunWriter {
  records = 0;
  constructor(private readonly out: TextSink) {}

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

/** A run: a file, or its bytes in memory (a memory module, read where it lies). */
export type RunRef = string | Buffer;

export function sourceOf(run: RunRef, batchBytes = BATCH_BYTES): BatchSource<KeyValue> {
  return typeof run === 'string' ? runSource(run, batchBytes) : bufferRunSource(run, batchBytes);
}

const BATCH_BYTES = 1 << 20;
const MERGE_BUFFER_BYTES = 16 << 20;
const MIN_BATCH_BYTES = 64 << 10;

/**
 * The batch size for each of `runs` runs merged at once: a merge holds one decoded batch per
 * run, so a reducer merging hundreds of small map outputs must not decode a megabyte of each.
 */
export function mergeBatchBytes(runs: number): number {
  return Math.max(MIN_BATCH_BYTES, Math.min(BATCH_BYTES, Math.floor(MERGE_BUFFER_BYTES / Math.max(1, runs))));
}

/** A run held in a buffer, decoded a batch of whole lines at a time (the buffer is not copied). */
export function bufferRunSource(bytes: Buffer, batchBytes = BATCH_BYTES): BatchSource<KeyValue> {
  let at = 0;
  return {
    async next() {
      if (at >= bytes.length) return undefined;
      let end = Math.min(bytes.length, at + batchBytes);
      if (end < bytes.length) {
        const newline = bytes.indexOf(10, end);
        end = newline < 0 ? bytes.length : newline + 1;
      }
      const text = bytes.toString('utf8', at, end);
      at = end;
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return decodeRecords(lines);
    },
  };
}

/** A run file read back as a source of sorted records for the k-way merge. */
export function runSource(path: string, batchBytes = BATCH_BYTES): BatchSource<KeyValue> {
  const batches = readLineBatches(path, 0, Infinity, batchBytes);
  return {
    async next() {
      const { value, done } = await batches.next();
      return done ? undefined : decodeRecords(value.lines);
    },
    async close() {
      await batches.return(undefined);
    },
  };
}
