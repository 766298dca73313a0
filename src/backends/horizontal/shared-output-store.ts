// Map outputs of the horizontal backend's stateless servers: in a directory every server can
// reach, not on the server's own disk, so that any server reads any output and losing a server
// loses no data. A map attempt writes into a staging directory of its own and renames it into
// place when done: an attempt sent twice (fail-over) publishes once, and a reader never sees a
// half-written output.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRef } from '../../storage/run-file.ts';
import { MapOutputStore } from '../../storage/map-output-store.ts';

export class SharedOutputStore extends MapOutputStore {
  private readonly staging: string;
  private readonly writing = new Set<string>();

  constructor(sharedDir: string) {
    super(join(sharedDir, 'map-out'));
    this.staging = join(sharedDir, 'staging', `${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** While its attempt writes it, an output lives in this server's staging directory. */
  override dir(outputId: string): string {
    const final = super.dir(outputId);
    return this.writing.has(outputId) ? join(this.staging, outputId) : final;
  }

  override async create(outputId: string): Promise<string> {
    this.writing.add(outputId);
    const dir = this.dir(outputId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return dir;
  }

  override async publish(outputId: string): Promise<void> {
    const from = this.dir(outputId);
    this.writing.delete(outputId);
    const to = this.dir(outputId);
    await mkdir(this.root, { recursive: true });
    try {
      await rename(from, to);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      await rm(from, { recursive: true, force: true }); // another server published the same attempt first
    }
  }

  override async localRun(outputId: string, partition: number): Promise<RunRef | undefined> {
    const path = this.partitionPath(outputId, partition);
    return (await stat(path).catch(() => undefined))?.isFile() ? path : undefined;
  }

  override async remove(outputId: string): Promise<void> {
    this.writing.delete(outputId);
    await rm(join(this.staging, outputId), { recursive: true, force: true });
    await super.remove(outputId);
  }

  async cleanup(): Promise<void> {
    await rm(this.staging, { recursive: true, force: true });
  }
}
