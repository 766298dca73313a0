// Backends whose workers are processes of their own that talk to the master over the wire: mr run
// spawns them (or adopts those bin/mr.mjs spawned early) and hears of their deaths at once.
import { ProcessPool } from '../pools/process-pool.ts';
import type { PoolContext } from './backend.ts';

export function processPool(context: PoolContext, transportName: string, extraArgs: string[] = []): ProcessPool {
  const pool = context.early ?? new ProcessPool({
    count: context.workers, masterAddress: context.masterAddress, workRoot: context.workRoot, transport: transportName,
    token: context.token, tlsFlags: context.tlsFlags, chaos: context.chaos, heapMib: context.workerHeapMib, extraArgs,
  });
  pool.onDeaths({
    onWorkerDied: (pid, death) => context.workerProcessDied(pid, death), // no need to wait for missed heartbeats
    onAllExited: (why) => context.onGone(why),
  });
  pool.connect(context.masterAddress);
  return pool;
}
