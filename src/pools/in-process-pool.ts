// Workers that live in this process, for backends whose workers cannot be other processes
// (memory): the same Worker code as the daemon, started and stopped as a group.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import type { Transport } from '../wires/index.ts';
import { Worker } from '../worker/worker.ts';
import type { Pool } from './pool.ts';

export class InProcessPool implements Pool {
  private readonly workers: Worker[] = [];

  /** transportOf(slot): worker-<slot>'s transport (its own under --chaos, which names each node). */
  constructor(private readonly options: { count: number; masterAddress: string; workRoot: string; transportOf: (slot: number) => Transport }) {}

  async start(): Promise<void> {
    for (let i = 0; i < this.options.count; i++) {
      const workDir = join(this.options.workRoot, `worker-${i}`);
      await mkdir(workDir, { recursive: true });
      const worker = new Worker({ masterAddress: this.options.masterAddress, workDir, slots: 1, transport: this.options.transportOf(i), log: silentLogger });
      await worker.start();
      this.workers.push(worker);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}
