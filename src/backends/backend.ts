// A backend: what `mr run` starts for --transport <name> besides its master, and the figures it
// reports. Each backend is a folder of its own here, registered once in index.ts; mr run asks the
// registered backend, never tests a backend's name or capabilities itself.
import type { ResumeFigures } from '../master/checkpoint-book.ts';
import type { JobTrace } from '../core/job-trace.ts';
import type { Pool } from '../pools/pool.ts';
import type { WorkerDeath } from '../pools/worker-death.ts';
import type { ProcessPool } from '../pools/process-pool.ts';
import type { ChaosSettings } from '../wires/chaos/chaos-node.ts';
import type { BackendReport, MachineTuning, Transport } from '../wires/index.ts';
import type { WireFactory } from '../wires/transport.ts';
import type { ProcessStats } from '../wires/messages.ts';
import type { ProcessRecord } from '../master/process-table.ts';
import type { WorkerOptions } from '../worker/worker.ts';
import type { Autoscale } from './horizontal/cluster.ts';

/** What mr run hands a backend to start its workers with. */
export interface PoolContext {
  transport: Transport;                       // the master's
  transportOf(node: string): Transport;       // a node's own (with its chaos layer, under --chaos)
  masterAddress: string;
  workRoot: string;
  token: string;
  workers: number;
  tuning: MachineTuning;
  tlsFlags: string[];
  workerHeapMib?: number;
  autoscale?: Autoscale;
  chaos?: ChaosSettings;
  /** Worker processes bin/mr.mjs started before the engine loaded, when they fit this run. */
  early?: ProcessPool;
  /** ssi: a running etcd cluster's client URLs; none: the pool starts a member itself. */
  etcd?: string[];
  /** The master's: a worker process seen to die, a worker known gone (its etcd lease lapsed), and nodes whose thread is held by a long call. */
  workerProcessDied(pid: number, death?: WorkerDeath): void;
  workerLost(workerId: string, reason: string): void;
  /** Tells listen of every process of the master's table that starts or changes state. */
  onProcess(listen: (record: ProcessRecord) => void): void;
  nodesBusy(nodes: readonly number[]): void;
  /** Every worker is gone: the job cannot go on (why). */
  onGone(why: string): void;
}

/** What a worker daemon (`mr worker --transport <name>`) hands its backend to ask for its worker parts. */
export interface WorkerContext {
  workDir: string;
  transport: Transport;
  master?: string;
  /** ssi: the etcd cluster that keeps the cluster state (--etcd). */
  etcd?: string[];
}

/** A worker's membership of its cluster, where the backend keeps one (ssi: an etcd lease). */
export interface Membership {
  /** Joins; onLost: membership lapsed, the worker must stop working. Returns leave(). */
  join(member: { workerId: string; pid: number; host: string }, onLost: (why: string) => void): Promise<() => Promise<void>>;
}

/** What a backend's workers need besides its wire: where map outputs go, a file namespace they share. */
export type WorkerParts = Pick<WorkerOptions, 'store' | 'files' | 'processes' | 'locks' | 'agreement'> & { membership?: Membership };

/** What a finished embedded run tells a backend for its report. */
export interface RunFacts {
  transport: Transport;
  workers: number;
  messages: number;             // master traffic, counted where it was encoded
  bytes: number;
  shuffledBytes: number;
  trace(): JobTrace;
  migrations: number;
  /** Map checkpoints the master heard of, and the attempts resumed from one. */
  resumes: ResumeFigures;
  /** Every process's last figures (the workers' as their heartbeats said). */
  processes: readonly ProcessStats[];
}

/** How mr run sizes a backend's cluster, and which of its options the backend takes. */
export interface RunShape {
  /**
   * workers: --workers; nodes: one worker per node, --nodes or --workers (ssi); machine: the
   * simulated machine's --nodes, with its cost-model options.
   */
  sizing: 'workers' | 'nodes' | 'machine';
  /** --tls-cert, --tls-key, --tls-ca secure the cluster mr run starts. */
  tls?: boolean;
  /** --autoscale: servers join and leave as tasks queue up. */
  autoscale?: boolean;
  /** How often a map attempt checkpoints without --checkpoint-ms (0 or none: never). */
  checkpointMs?: number;
}

export interface Backend {
  readonly name: string;
  readonly runs: RunShape;
  /** How its master and workers talk (its wire, and on a simulated machine the machine's model). */
  readonly wire: WireFactory;
  /** Starts nothing yet: start() and stop() are the caller's. */
  pool(context: PoolContext): Pool;
  /**
   * What its worker daemons need besides the wire (ssi: map outputs in files, the /cluster
   * namespace); without it a worker keeps small map outputs in memory and fetches by address.
   */
  workerParts?(context: WorkerContext): WorkerParts;
  /** Its figures for the finished job (`mr run --report`, `--json` under `backend`). */
  report(pool: Pool, facts: RunFacts): BackendReport | Promise<BackendReport>;
}

/** The figures every backend has: its name, its workers, what crossed the master's services and the shuffle. */
export function commonReport(facts: RunFacts, nodes = facts.workers): BackendReport {
  return { name: facts.transport.name, nodes, messages: facts.messages, bytes: facts.bytes + facts.shuffledBytes };
}
