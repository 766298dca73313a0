// Where a worker keeps map outputs (one sorted file per partition) and how it serves them.
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Counters } from '../core/counters.ts';
import { UsageError } from '../errors.ts';
import { readChunkBytes } from './line-reader.ts';
import { RunWriter, type RunRef } from './run-file.ts';

export const CHUNK_BYTES = 1 << 20;

export class MapOutputStore {
  constructor(readonly root: string) {}

  dir(outputId: string): string {
    if (!/^[\w.-]+$/.test(outputId)) throw new UsageError(`bad map output id ${JSON.stringify(outputId)}`);
    return join(this.root, outputId);
  }

  partitionPath(outputId: string, partition: number): string {
    return join(this.dir(outputId), `r-${partition}`);
  }

  async create(outputId: string): Promise<string> {
    const dir = this.dir(outputId);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** A writer of the output's final partition r (spills stay files under dir()). */
  async openPartition(outputId: string, partition: number): Promise<RunWriter> {
    return RunWriter.create(this.partitionPath(outputId, partition));
  }

  /** The map attempt is done writing the output: from now on it may be read. */
  async publish(_outputId: string): Promise<void> {}

  /** Counters of how the store kept the output (added to the map attempt's counters). */
  outputCounters(_outputId: string): Counters {
    return {};
  }

  /** Partition r of a map output this worker can read without the network, or undefined. */
  async localRun(outputId: string, partition: number): Promise<RunRef | undefined> {
    return (await this.has(outputId)) ? this.partitionPath(outputId, partition) : undefined;
  }

  async has(outputId: string): Promise<boolean> {
    return (await stat(this.dir(outputId)).catch(() => undefined))?.isDirectory() ?? false;
  }

  async remove(outputId: string): Promise<void> {
    await rm(this.dir(outputId), { recursive: true, force: true });
  }

  /** Streams one partition in chunks of at most CHUNK_BYTES. */
  async *read(outputId: string, partition: number): AsyncGenerator<Buffer> {
    const path = this.partitionPath(outputId, partition);
    const file = await open(path, 'r').catch(() => {
      throw new UsageError(`map output ${outputId} partition ${partition} is not on this worker`);
    });
    try {
      let left = (await file.stat()).size;
      for (;;) {
        const chunk = Buffer.allocUnsafe(readChunkBytes(left, CHUNK_BYTES));
        const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
        left -= bytesRead;
        if (bytesRead === 0) return;
        yield chunk.subarray(0, bytesRead);
      }
    } finally {
      await file.close();
    }
  }
}
