// Defaults of the engine, in one place, with their units in their names.
import { availableParallelism } from 'node:os';

export const DEFAULTS = {
  reducers: 4,
  workers: () => Math.max(1, availableParallelism()),
  transport: 'grpc',
  sortBufferBytes: 64 << 20,     // a map task spills sorted runs past this much buffered output
  workerHeapMib: 384,            // V8's old-space limit for spawned worker processes (see pools/process-pool.ts)
  maxAttempts: 4,
  // An attempt whose progress does not move this long fails (Hadoop waits 600 s; one map call on
  // one line, or one reduce call, rarely takes a minute, and a stalled job should say so sooner).
  taskTimeoutMs: 60_000,
  // The master's view of its workers: a worker heartbeats this often, is presumed dead when
  // silent this long, and an attempt without a heartbeat this long is presumed lost.
  heartbeatIntervalMs: 1000,
  workerTimeoutMs: 10_000,
  leaseMs: 30_000,
  statusPollMs: 200,
  workerStopGraceMs: 1000,
  exitSettleMs: 300,             // a second Ctrl-C: how long a rename of a just-killed worker may still land in the output
  masterWaitMs: 60_000,          // how long `mr run --master` waits for a master that went away
} as const;

export const MIB = 1 << 20;

/**
 * What a job module may import this package as: 'mr', the command's name, resolved by the job
 * loaders wherever the job lies; and the package's name on npm (package.json), which collides
 * with nothing there (an unrelated 'mr' does).
 */
export const IMPORT_NAMES: readonly string[] = ['mr', 'mr-mapreduce'];
