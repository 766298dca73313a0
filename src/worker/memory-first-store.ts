// Map outputs held in the worker's memory while they are small, in files when they are not.
// A map task over a tiny input otherwise pays a directory and three file operations per
// partition, which on an ordinary disk costs more than the task itself. Keeping a partition in
// memory loses nothing a file would keep: map outputs die with their worker either way (a
// restarted worker starts with an empty store), and the master re-runs the map.
import { mkdir, writeFile } from 'node:fs/promises';
import type { ByteSink } from '../storage/run-file.ts';
import { RunWriter, type RunRef } from '../storage/run-file.ts';
import { TextWriter } from '../storage/text-writer.ts';
import { CHUNK_BYTES, MapOutputStore } from '../storage/map-output-store.ts';

export const HELD_PARTITION_MAX_BYTES = 1 << 20;  // a partition larger than this goes to a file
export const HELD_TOTAL_MAX_BYTES = 64 << 20;      // all partitions held by one worker at most

export class MemoryFirstOutputStore extends MapOutputStore {
  /** outputId -> partition -> bytes, for the partitions held in memory. */
  private readonly held = new Map<string, Map<number, Buffer>>();
  private heldBytes = 0;

  constructor(root: string, private readonly totalMaxBytes = HELD_TOTAL_MAX_BYTES, private readonly partitionMaxBytes = HELD_PARTITION_MAX_BYTES) {
    super(root);
  }

  /** The directory is made only when something of the output goes to a file (a spill, a large partition). */
  override async create(outputId: string): Promise<string> {
    this.held.set(outputId, new Map());
    return this.dir(outputId);
  }

  override async openPartition(outputId: string, partition: number): Promise<RunWriter> {
    const hold = (bytes: Buffer): boolean => this.hold(outputId, partition, bytes);
    return new RunWriter(new HoldingSink(this.partitionMaxBytes, hold, this.dir(outputId), this.partitionPath(outputId, partition)));
  }

  /** Keeps a finished partition in memory if the budget allows; false: it must go to a file. */
  private hold(outputId: string, partition: number, bytes: Buffer): boolean {
    const partitions = this.held.get(outputId);
    if (partitions === undefined || this.heldBytes + bytes.length > this.totalMaxBytes) return false;
    partitions.set(partition, bytes);
    this.heldBytes += bytes.length;
    return true;
  }

  override async localRun(outputId: string, partition: number): Promise<RunRef | undefined> {
    const partitions = this.held.get(outputId);
    if (partitions === undefined) return super.localRun(outputId, partition);
    return partitions.get(partition) ?? this.partitionPath(outputId, partition);
  }

  override async has(outputId: string): Promise<boolean> {
    return this.held.has(outputId) || super.has(outputId);
  }

  override async remove(outputId: string): Promise<void> {
    for (const bytes of this.held.get(outputId)?.values() ?? []) this.heldBytes -= bytes.length;
    this.held.delete(outputId);
    await super.remove(outputId);
  }

  override async *read(outputId: string, partition: number): AsyncGenerator<Buffer> {
    const bytes = this.held.get(outputId)?.get(partition);
    if (bytes === undefined) {
      yield* super.read(outputId, partition);
      return;
    }
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield bytes.subarray(at, at + CHUNK_BYTES);
  }
}

/** Collects a partition's bytes in memory; past maxBytes (or when the store will not hold them) it continues in a file. */
class HoldingSink implements ByteSink {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private file?: TextWriter;

  constructor(
    private readonly maxBytes: number,
    private readonly hold: (bytes: Buffer) => boolean,
    private readonly dir: string,
    private readonly path: string,
  ) {}

  write(bytes: Uint8Array): Promise<void> | undefined {
    if (this.file !== undefined) return this.file.write(bytes);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    return this.pendingBytes > this.maxBytes ? this.toFile() : undefined;
  }

  private async toFile(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    await mkdir(this.dir, { recursive: true });
    this.file = await TextWriter.create(this.path);
    for (const bytes of pending) await this.file.write(bytes);
  }

  async close(): Promise<number> {
    if (this.file !== undefined) return this.file.close();
    const bytes = Buffer.concat(this.pending, this.pendingBytes); // a copy of its own size: blocks are larger than a tiny partition
    this.pending = [];
    if (bytes.length <= this.maxBytes && this.hold(bytes)) return bytes.length;
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.path, bytes);
    return bytes.length;
  }
}
