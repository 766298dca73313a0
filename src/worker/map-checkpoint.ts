// A map attempt's checkpoints, so that another attempt can take over where it was (migration, in
// the way of MOSIX): at intervals the attempt spills what it has buffered and records where its
// input stands (the split and byte offset of the next record), the runs spilled so far and its
// counters. An attempt of the same task given that checkpoint links (or, from another host, copies
// through the file namespace) those runs into its own place and reads on from the offset: its
// output is what the first would have made, as if it had spilled the runs itself.
import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { COUNTER, type Counters } from '../core/counters.ts';
import type { AttemptFigures } from '../core/progress.ts';
import type { Checkpoint } from '../wires/messages.ts';

/** Where a worker keeps its attempts' checkpoints, and how it reads another node's. */
export interface CheckpointIo {
  /** Absolute: <work dir>/checkpoints. */
  root: string;
  /** The same, relative to the worker's work directory (its part of a file namespace). */
  clusterRoot: string;
  host: string;
  /** The worker's node (0 before it has one). */
  node(): number;
  /** A file of another node's part of the namespace (ssi: /cluster/<node>/<path>); none without one. */
  open?(path: string): AsyncIterable<Buffer>;
}

/**
 * Where the next record is: the task's split and the file offset of the record's first byte. In
 * the middle of a batch of records, what of the batch (read, so counted) is still to be mapped.
 */
export interface InputPosition {
  split: number;
  offset: number;
  unreadBytes?: number;
  unreadRecords?: number;
}

/** A position, or how to find it (only when a checkpoint is due: it may read the input again). */
export type PositionSource = InputPosition | (() => Promise<InputPosition>);

/** Input read and records emitted so far (a resumed attempt starts from its checkpoint's). */
export interface Tally {
  bytes: number;
  records: number;
  emitted: number;
}

/** What an attempt has done up to a checkpoint. */
export interface CheckpointState {
  at: InputPosition;
  spills: number;
  counters: Counters;
  emitted: number;
  bytesDone: number;
}

/** Checkpoint directories of attempts this old are no one's any more (their jobs are long over). */
const ORPHAN_MS = 3_600_000;

export class MapCheckpoints {
  readonly dir: string;
  private readonly clusterDir: string;
  private lastMs: number;
  private seq = 0;

  constructor(private readonly io: CheckpointIo, attemptId: string, private readonly everyMs: number, private readonly now: () => number = () => performance.now()) {
    this.dir = join(io.root, attemptId);
    this.clusterDir = join(io.clusterRoot, attemptId);
    this.lastMs = now();
  }

  /** Checkpoints this attempt wrote. */
  get written(): number {
    return this.seq;
  }

  /** Whether one is due (every everyMs; never with 0). */
  due(): boolean {
    return this.everyMs > 0 && this.now() - this.lastMs >= this.everyMs;
  }

  /** The checkpoint whose spills are now all on disk: kept in the attempt's progress, where the worker's heartbeat takes it to the master. */
  record(progress: AttemptFigures, state: CheckpointState, inherited = 0): Checkpoint {
    this.seq++;
    this.lastMs = this.now();
    const checkpoint: Checkpoint = {
      seq: this.seq, split: state.at.split, offset: state.at.offset, spills: state.spills, dir: this.dir, host: this.io.host, node: this.io.node(),
      clusterDir: this.clusterDir, counters: state.counters, emitted: state.emitted, bytesDone: state.bytesDone,
    };
    checkpoint.counters[COUNTER.checkpoints] = inherited + this.seq;
    progress.checkpoint = checkpoint;
    return checkpoint;
  }

  /**
   * Makes the resumed checkpoint's runs this attempt's first spills (spill-0 ... here); returns
   * their paths by spill and partition, or undefined when one cannot be had (the node that wrote
   * them is gone, with its disk): the attempt then starts from the beginning.
   */
  async adopt(from: Checkpoint, partitions: number): Promise<string[][] | undefined> {
    const spills: string[][] = [];
    try {
      for (let i = 0; i < from.spills; i++) {
        await mkdir(join(this.dir, `spill-${i}`), { recursive: true });
        const paths: string[] = [];
        for (let r = 0; r < partitions; r++) {
          const name = join(`spill-${i}`, `r-${r}`);
          const to = join(this.dir, name);
          await this.fetch(from, name, to);
          paths.push(to);
        }
        spills.push(paths);
      }
      return spills;
    } catch {
      await this.remove();
      return undefined;
    }
  }

  /** One run of the checkpoint: linked on the same host (it never changes once written), else read through the namespace. */
  private async fetch(from: Checkpoint, name: string, to: string): Promise<void> {
    if (from.host === this.io.host) {
      const source = join(from.dir, name);
      try {
        await link(source, to);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EXDEV' || code === 'EPERM') return copyFile(source, to);   // another file system, or no hard links there
        if (!this.io.open) throw error;
      }
    }
    if (!this.io.open) throw new Error(`checkpoint ${from.dir} is on host ${from.host}, and there is no namespace to read it through`);
    await pipeline(Readable.from(this.io.open(`/cluster/${from.node}/${join(from.clusterDir, name)}`)), createWriteStream(to));
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The checkpoint a resumed attempt took over, once its task is done: its runs are no one's now (on this host only). */
export async function removeResumed(io: CheckpointIo, from: Checkpoint): Promise<void> {
  if (from.host === io.host && basename(dirname(from.dir)) === basename(io.root)) await rm(from.dir, { recursive: true, force: true }).catch(() => undefined);
}

/** Removes checkpoint directories left by attempts long gone (moved or lost, never resumed). */
export async function removeOrphanCheckpoints(root: string, nowMs = Date.now()): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  await Promise.all(names.map(async (name) => {
    const info = await stat(join(root, name)).catch(() => undefined);
    if (info && nowMs - info.mtimeMs > ORPHAN_MS) await rm(join(root, name), { recursive: true, force: true }).catch(() => undefined);
  }));
}
