// The worker threads of a simulated machine (hypercube, butterfly), started by `mr run`: node k
// runs in thread k mod T. A thread that fails ends the job: a simulated machine does not replace
// its nodes (that is what the grpc, ssi and horizontal backends are for). A thread whose event
// loop is held by one long call of a job function is alive and busy: its host says so for it.
import { join } from 'node:path';
import { MessagePort, type Worker as Thread } from 'node:worker_threads';
import { logLevel } from '../log-level.ts';
import type { LogLevel } from '../log.ts';
import { startThread } from '../thread-entry.ts';
import type { ChaosSettings } from '../wires/chaos/chaos-node.ts';
import type { MachineTuning, SimulatedMachine } from '../wires/index.ts';
import type { Pool } from './pool.ts';

export interface ThreadPoolOptions {
  machine: SimulatedMachine;
  transport: string;
  token: string;
  masterAddress: string;
  workRoot: string;
  tuning: MachineTuning;
  chaos?: ChaosSettings;         // node k's worker gets it under the name worker-<k>
  onFailed?: (why: string) => void;
  /** The nodes of a thread whose event loop has been held this long (a job function's long call) are alive, busy. */
  onBusy?: (nodes: number[]) => void;
  busyAfterMs?: number;
}

/** What a node thread (node-thread.ts) is started with. */
export interface NodeThreadData {
  transport: string;
  token: string;
  nodes: number;                 // of the whole machine
  hosted: number[];              // the nodes whose workers run in this thread
  masterAddress: string;
  workRoot: string;
  tuning: MachineTuning;
  threadData: unknown;
  chaos?: ChaosSettings;         // each node then has a transport of its own, with its chaos layer (worker-<node>)
  logLevel?: LogLevel;           // MR_LOG, as the CLI read it
  turns: Int32Array;             // bumped while this thread's event loop turns (its host watches it)
}

/** Messages a node thread posts to its host. */
/** exited: the thread's workers have stopped (it ends once every thread's have: its routers may carry theirs' messages). */
export type NodeThreadEvent = { type: 'started' } | { type: 'exited' } | { type: 'failed'; error: string };

const ENTRY = new URL('./node-thread.ts', import.meta.url);

export class ThreadPool implements Pool {
  private readonly threads: Thread[] = [];
  private readonly exited: Promise<void>[] = [];
  private readonly done = new Set<Thread>();
  private readonly busyChecks: NodeJS.Timeout[] = [];

  constructor(private readonly options: ThreadPoolOptions) {}

  async start(): Promise<void> {
    const { machine } = this.options;
    const started: Promise<void>[] = [];
    for (let t = 0; t < machine.threads; t++) {
      const hosted = Array.from({ length: machine.nodes }, (_, node) => node).filter((node) => node % machine.threads === t);
      const data: NodeThreadData = {
        transport: this.options.transport, token: this.options.token, nodes: machine.nodes, hosted,
        masterAddress: this.options.masterAddress, workRoot: join(this.options.workRoot, 'nodes'),
        tuning: this.options.tuning, threadData: machine.threadData(hosted), chaos: this.options.chaos,
        logLevel: logLevel(), turns: new Int32Array(new SharedArrayBuffer(4)),
      };
      this.watchTurns(data.turns, hosted);
      const thread = startThread(ENTRY, { ...data }, { transferList: portsIn(data.threadData) });
      this.threads.push(thread);
      started.push(new Promise((resolve, reject) => {
        thread.on('message', (event: NodeThreadEvent) => {
          if (event.type === 'started') resolve();
          if (event.type === 'exited') this.workersDone(thread);
          if (event.type === 'failed') {
            reject(new Error(`node thread ${t}: ${event.error}`));
            this.options.onFailed?.(`node thread ${t} failed: ${event.error}`);
          }
        });
        thread.on('error', (error) => {
          reject(error);
          this.options.onFailed?.(`node thread ${t} crashed: ${error.message}`);
        });
      }));
      this.exited.push(new Promise((resolve) => thread.on('exit', () => resolve())));
    }
    await Promise.all(started);
  }

  /** A thread's workers have stopped; once every thread's have, they may all end. */
  private workersDone(thread: Thread): void {
    this.done.add(thread);
    if (this.done.size === this.threads.length) for (const t of this.threads) t.postMessage('close');
  }

  /** Calls onBusy for the hosted nodes while the thread's loop-turn counter stands still. */
  private watchTurns(turns: Int32Array, hosted: number[]): void {
    const { onBusy, busyAfterMs = 1000 } = this.options;
    if (!onBusy) return;
    let last = -1;
    let sinceMs = Date.now();
    const check = setInterval(() => {
      const now = Atomics.load(turns, 0);
      if (now !== last) {
        last = now;
        sinceMs = Date.now();
      } else if (Date.now() - sinceMs >= busyAfterMs) {
        onBusy(this.options.machine.heldBehind?.(hosted) ?? hosted);
      }
    }, busyAfterMs / 2);
    check.unref();
    this.busyChecks.push(check);
  }

  /** Waits for the threads to end (after the master told the workers to stop), then asks, then terminates. */
  async stop(graceMs: number): Promise<void> {
    for (const check of this.busyChecks) clearInterval(check);
    const all = Promise.all(this.exited);
    if (await settlesWithin(all, graceMs)) return;
    for (const thread of this.threads) thread.postMessage('stop');
    if (await settlesWithin(all, graceMs)) return;
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }
}

/** The MessagePorts in a machine's thread data (a simulated machine's links), which must move to the thread. */
function portsIn(value: unknown, found: MessagePort[] = []): MessagePort[] {
  if (value instanceof MessagePort) found.push(value);
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof SharedArrayBuffer)) {
    for (const item of Object.values(value)) portsIn(item, found);
  }
  return found;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}
