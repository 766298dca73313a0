// Worker processes `mr run` starts before anything else: a worker takes a few hundred ms to load
// and start serving, about what mr run itself takes to load, check its arguments, compile the job
// and start its master. Started first, the two overlap; the workers are told the master's address
// on stdin once it listens. bin/mr.mjs spawns them before it loads the engine (bin/early-workers.mjs),
// and mr run adopts them here when they fit its arguments; started another way (the engine
// imported directly), they are spawned here. Only for the plain embedded cluster (grpc, no TLS,
// no chaos, no autoscaling), and not for a tiny job that will likely run uber (in mr run itself);
// anything else starts its workers once the master listens.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EARLY_WORKERS, type EarlySpawn } from '../../bin/early-workers.mjs';
import { looksUber } from '../../bin/uber-input.mjs';
import { DEFAULTS } from '../config.ts';
import type { RunArgs, RunConfig } from './run-config.ts';
import { ProcessPool } from '../pools/process-pool.ts';

export interface EarlyWorkers {
  workRoot: string;
  token: string;
  pool: ProcessPool;
  /** Kills the workers and removes the work directory: at exit, or when the run does not happen. */
  drop: () => void;
}

const wholeAtLeastOne = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;

/** The workers bin/mr.mjs spawned, if any: taken once (a second run in this process spawns its own). */
function takeSpawned(): EarlySpawn | undefined {
  const holder = globalThis as { [EARLY_WORKERS]?: EarlySpawn };
  const spawned = holder[EARLY_WORKERS];
  delete holder[EARLY_WORKERS];
  return spawned;
}

/** Starts the workers of a plain embedded run now, or gives undefined when the run is another kind. */
export function startWorkersEarly(args: RunArgs): EarlyWorkers | undefined {
  const spawned = takeSpawned();
  // Workers that read object storage must see --s3-endpoint in their environment: they start once it is set.
  const plain = !args.master && (args.transport ?? 'grpc') === 'grpc' && args.chaos === undefined && args.autoscale === undefined
    && args.nodes === undefined && args.tlsCert === undefined && args.tlsKey === undefined && args.tlsCa === undefined
    && args.s3Endpoint === undefined && !(args.input ?? []).some((input) => input.startsWith('s3://'));
  // A tiny job that will likely run uber (bin/uber-input.mjs: the same guess as bin/mr.mjs's) starts none.
  if (looksUber(process.argv.slice(2), process.env)) {
    spawned?.drop();
    return undefined;
  }
  const count = args.workers ?? DEFAULTS.workers();
  const heapMib = args.workerHeapMib ?? DEFAULTS.workerHeapMib;
  if (!plain || !wholeAtLeastOne(count) || count > 256 || !wholeAtLeastOne(heapMib)) {
    spawned?.drop();
    return undefined;
  }
  const fit = spawned !== undefined && spawned.count === count && spawned.heapMib === heapMib;
  if (!fit) spawned?.drop();
  const workRoot = fit ? spawned.workRoot : mkdtempSync(join(tmpdir(), 'mr-run-'));
  const token = fit ? spawned.token : randomBytes(18).toString('base64url');   // even on loopback, the cluster only answers to its own processes
  const pool = new ProcessPool({ count, workRoot, transport: 'grpc', token, heapMib });
  const drop = (): void => {
    pool.abandon();
    rmSync(workRoot, { recursive: true, force: true });
  };
  process.once('exit', drop);
  if (fit) {
    pool.adopt(spawned.workers);
    spawned.adopted = true;
  } else {
    void pool.start();   // every worker is spawned before this returns
  }
  return { workRoot, token, pool, drop };
}

/** Whether the early workers are the ones the checked configuration asks for. */
export function earlyWorkersFit(early: EarlyWorkers, config: RunConfig): boolean {
  return !config.uber && !config.master && config.transport === 'grpc' && !config.tls && !config.chaos && !config.autoscale && config.workers === early.pool.planned && config.workerHeapMib === early.pool.heapMib;
}

/** The run will not use them: they go now, and nothing is left at exit. */
export function discardEarlyWorkers(early: EarlyWorkers | undefined): void {
  if (!early) return;
  process.off('exit', early.drop);
  early.drop();
}
