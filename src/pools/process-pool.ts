// Worker processes that `mr run` starts itself (embedded mode): real OS processes running
// `mr worker`, stopped with SIGTERM, then SIGKILL after a grace period. No orphans: each
// worker also exits when its parent's pipe closes. A worker that dies is replaced, a few times.
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnWorkerProcess, workerNodeArgs, type SpawnedWorker } from '../../bin/early-workers.mjs';
import { DEFAULTS } from '../config.ts';
import type { ChaosSettings } from '../wires/chaos/chaos-node.ts';
import { embeddedWorkerArgv } from './embedded-worker.ts';
import type { Pool } from './pool.ts';
import { diagnoseDeath, heapLimitMib, type WorkerDeath } from './worker-death.ts';

export const MR_BIN = fileURLToPath(new URL('../../bin/mr.mjs', import.meta.url));

export interface ProcessPoolOptions {
  count: number;
  masterAddress?: string;        // or, for stateless servers, the balancer they join (with join: true); none yet: see connect()
  join?: boolean;
  workRoot: string;
  transport: string;
  slots?: number;
  token: string;                 // given to the workers in MR_TOKEN, not in argv (which `ps` shows)
  tlsFlags?: string[];           // --tls-cert, --tls-key, --tls-ca of mr run: file names, fine in argv
  chaos?: ChaosSettings;         // each worker gets it under the name of its slot, worker-<slot>
  heapMib?: number;              // V8's old-space limit of each worker (default DEFAULTS.workerHeapMib)
  extraArgs?: string[];          // more flags for every worker (ssi: --etcd)
  /** death: why, when it was its attempts' doing (out of memory, a stall); they fail with it. */
  onWorkerDied?: (pid: number, death?: WorkerDeath) => void;
  onAllExited?: (why: string) => void;
}

export class ProcessPool implements Pool {
  private readonly children = new Set<ChildProcess>();
  private restartsLeft: number;
  private stopping = false;
  private readonly retired = new Set<ChildProcess>();
  private nextSlot: number;
  private started = false;
  private readonly waiting = new Set<ChildProcess>();   // started before the master's address was known

  constructor(private readonly options: ProcessPoolOptions) {
    this.restartsLeft = 2 * options.count;
    this.nextSlot = options.count;
  }

  get size(): number {
    return this.children.size - this.retired.size;
  }

  /** One more worker (an autoscaler growing the pool). */
  async add(): Promise<void> {
    this.spawnWorker(this.nextSlot++);
  }

  /** Asks one worker to leave (SIGTERM: it drains first); it is not replaced. */
  retire(): boolean {
    const child = [...this.children].find((c) => !this.retired.has(c));
    if (!child) return false;
    this.retired.add(child);
    child.kill('SIGTERM');
    return true;
  }

  /** The pids of the running workers, oldest first. */
  pids(): number[] {
    return [...this.children].filter((c) => !this.retired.has(c)).map((c) => c.pid ?? 0);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < this.options.count; i++) this.spawnWorker(i);
  }

  /**
   * Tells the workers started without a master its address (they load and start serving while
   * mr run gets its master ready); workers started later get it in their options.
   */
  connect(masterAddress: string): void {
    if (this.options.masterAddress !== undefined) return;
    this.options.masterAddress = masterAddress;
    for (const child of this.waiting) child.stdin?.write(`${masterAddress}\n`);
    this.waiting.clear();
  }

  /** The workers asked for, and their heap limit. */
  get planned(): number {
    return this.options.count;
  }

  get heapMib(): number {
    return this.options.heapMib ?? DEFAULTS.workerHeapMib;
  }

  /** Who hears of worker deaths: set once the master exists, for workers started before it. */
  onDeaths(hooks: Pick<ProcessPoolOptions, 'onWorkerDied' | 'onAllExited'>): void {
    Object.assign(this.options, hooks);
  }

  /** Synchronous: once it returns, the worker is a child of this process (nothing is left half-started). */
  private spawnWorker(slot: number): void {
    const { masterAddress } = this.options;
    const target = masterAddress === undefined ? ['--master-on-stdin'] : [this.options.join ? '--join' : '--master', masterAddress];
    const argv = (dir: string): string[] => embeddedWorkerArgv([...target, '--work-dir', dir,
      '--slots', String(this.options.slots ?? 1), '--transport', this.options.transport,
      ...chaosFlags(this.options.chaos, `worker-${slot}`), ...(this.options.tlsFlags ?? []), ...(this.options.extraArgs ?? [])]);
    const nodeArgs = workerNodeArgs(this.heapMib);
    this.watch(spawnWorkerProcess({ workRoot: this.options.workRoot, slot, argv, nodeArgs, token: this.options.token }), nodeArgs);
  }

  /**
   * Takes over workers bin/mr.mjs spawned before the engine loaded (bin/early-workers.mjs): the
   * pool's own, as if it had started them, waiting for the master's address.
   */
  adopt(workers: readonly SpawnedWorker[]): void {
    this.started = true;
    const nodeArgs = workerNodeArgs(this.heapMib);
    for (const worker of workers) this.watch(worker, nodeArgs);
  }

  private watch({ child, slot, logPath, logStart }: SpawnedWorker, nodeArgs: string[]): void {
    this.children.add(child);
    if (this.options.masterAddress === undefined) this.waiting.add(child);
    child.on('exit', (code, signal) => {
      this.children.delete(child);
      this.waiting.delete(child);
      if (this.stopping || this.retired.delete(child)) return;
      const death = diagnoseDeath(readFrom(logPath, logStart), heapLimitMib(nodeArgs, DEFAULTS.workerHeapMib));
      this.options.onWorkerDied?.(child.pid ?? 0, death);
      // A death that was an attempt's doing is bounded by --max-attempts, not by the restarts.
      if (death || this.restartsLeft-- > 0) {
        this.spawnWorker(slot);
      } else if (this.children.size === 0) {
        const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
        this.options.onAllExited?.(`every worker exited (last: ${signal ?? `code ${code}`}${tail ? `: ${tail.slice(0, 300)}` : ''})`);
      }
    });
  }

  /** Kills every worker now (SIGKILL), and none is restarted: a pool the run will not use. */
  abandon(): void {
    this.stopping = true;
    for (const child of this.children) child.kill('SIGKILL');
  }

  /** Waits for the workers to exit (after the master told them to), then TERM, then KILL. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const alive = () => [...this.children].filter((child) => child.exitCode === null && child.signalCode === null);
    const waitAll = (ms: number) => Promise.race([
      Promise.all(alive().map((child) => new Promise((resolve) => child.once('exit', resolve)))),
      new Promise((resolve) => setTimeout(resolve, ms).unref()),
    ]);
    await waitAll(graceMs / 2); // idle workers exit at once when the master says so
    for (const child of alive()) child.kill('SIGTERM');
    await waitAll(graceMs);
    for (const child of alive()) child.kill('SIGKILL');
    await waitAll(graceMs);
  }
}

/** The end of the log from offset on (at most its last 64 KiB). */
function readFrom(path: string, offset: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(offset, size - 65_536);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The flags that give a spawned process the run's chaos, under its own node name. */
export function chaosFlags(settings: ChaosSettings | undefined, name: string): string[] {
  if (!settings) return [];
  return ['--chaos', settings.text, '--chaos-seed', String(settings.seed), '--chaos-name', name, '--chaos-epoch-ms', String(settings.epochMs)];
}
