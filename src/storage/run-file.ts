// Sorted run files of intermediate records (map outputs, spills, fetched partitions), in the
// binary format of core/run-records.ts.
import { decodeRecords, RecordEncoder, type KeyValue } from '../core/run-records.ts';
import { CorruptRunError } from '../errors.ts';
import type { BatchSource } from '../core/kway-merge.ts';
import { readChunks } from './line-reader.ts';
import { TextWriter } from './text-writer.ts';

/** Where a run's bytes go: a file (TextWriter) or a memory module. close() gives the byte count. */
export interface ByteSink {
  /** The sink may keep `bytes`: the writer never touches them again. */
  write(bytes: Uint8Array): Promise<void> | undefined;
  close(): Promise<number>;
}

const BLOCK_BYTES = 256 << 10;   // records are handed to the sink in blocks of about this size

export class RunWriter {
  records = 0;
  private readonly encoder = new RecordEncoder();

  constructor(private readonly out: ByteSink) {}

  static async create(path: string): Promise<RunWriter> {
    return new RunWriter(await TextWriter.create(path));
  }

  /** Queues a record; returns a promise only when a block went to the sink and it asks to be awaited. */
  write(key: string, value: unknown): Promise<void> | undefined {
    this.records++;
    this.encoder.add(key, value);
    return this.encoder.length >= BLOCK_BYTES ? this.out.write(this.encoder.take()) : undefined;
  }

  /** A record whose key is the UTF-8 bytes[from, to) and whose value is the count (the byte-level path). */
  writeRaw(bytes: Uint8Array, from: number, to: number, count: number): Promise<void> | undefined {
    this.records++;
    this.encoder.addRaw(bytes, from, to, count);
    return this.encoder.length >= BLOCK_BYTES ? this.out.write(this.encoder.take()) : undefined;
  }

  async close(): Promise<number> {
    if (this.encoder.length > 0) await this.out.write(this.encoder.take());
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

/** A run held in a buffer, decoded about batchBytes at a time (the buffer is not copied). */
export function bufferRunSource(bytes: Buffer, batchBytes = BATCH_BYTES): BatchSource<KeyValue> {
  let at = 0;
  return {
    async next() {
      if (at >= bytes.length) return undefined;
      const records: KeyValue[] = [];
      const end = decodeRecords(bytes, at, Math.min(bytes.length, at + batchBytes), records);
      // A record larger than the batch: decode up to the end of the buffer instead.
      at = end > at ? end : decodeRecords(bytes, at, bytes.length, records);
      if (records.length === 0) throw new CorruptRunError(`corrupt intermediate run: ${bytes.length - at} bytes at its end are no whole record`);
      return records;
    },
  };
}

/** A run file read back as a source of sorted records for the k-way merge. */
export function runSource(path: string, batchBytes = BATCH_BYTES): BatchSource<KeyValue> {
  const blocks = runBlocks(path, batchBytes);
  return {
    async next() {
      const { value, done } = await blocks.next();
      return done ? undefined : value;
    },
    async close() {
      await blocks.return(undefined);
    },
  };
}

/** The records of a run file in batches. */
async function* runBlocks(path: string, batchBytes: number): AsyncGenerator<KeyValue[]> {
  for await (const { data, done } of wholeRecordChunks(path, batchBytes)) {
    const records: KeyValue[] = [];
    done(decodeRecords(data, 0, data.length, records));
    if (records.length > 0) yield records;
  }
}

/** A chunk of a run: its reader says with done(end) where the last whole record it read ends. */
export interface RunChunk {
  data: Buffer;
  done(end: number): void;
}

/**
 * A run's bytes in chunks of about chunkBytes (a run in memory: one chunk), each beginning with
 * what the chunk before left of a record it cut; a run that ends inside a record is corrupt.
 */
export async function* wholeRecordChunks(run: RunRef, chunkBytes: number): AsyncGenerator<RunChunk> {
  let carry: Buffer | undefined;
  for await (const chunk of typeof run === 'string' ? readChunks(run, chunkBytes) : [run]) {
    const data = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    let end = 0;
    yield { data, done: (at) => { end = at; } };
    carry = end < data.length ? Buffer.from(data.subarray(end)) : undefined;
  }
  if (carry !== undefined) {
    throw new CorruptRunError(`corrupt intermediate run${typeof run === 'string' ? ` ${run}` : ''}: ${carry.length} bytes at its end are no whole record`);
  }
}
