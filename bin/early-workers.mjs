// The worker processes of a plain `mr run` (embedded grpc cluster, no TLS, chaos, autoscaling or
// --master, and not a tiny job that runs uber: uber-input.mjs), spawned by bin/mr.mjs before it
// loads the engine: a worker takes a few hundred ms to load and start serving, about what the
// command line takes to load, check its arguments, compile the job and start its master, so the
// two overlap. The workers wait for the master's address on stdin. mr run adopts them
// (src/cli/early-workers.ts) once it has checked that they are what its arguments ask for;
// otherwise, and at exit, they are killed and their directory removed. Node built-ins only: this
// runs before anything else is loaded.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { looksUber } from './uber-input.mjs';

/** Where bin/mr.mjs leaves the spawned workers for mr run to adopt. */
export const EARLY_WORKERS = Symbol.for('mr.earlyWorkers');

export const DEFAULT_WORKER_HEAP_MIB = 384;   // src/config.ts DEFAULTS.workerHeapMib
const MR_BIN = fileURLToPath(new URL('./mr.mjs', import.meta.url));

// Flags that make a run anything but the plain embedded cluster (mr run re-checks the parsed
// configuration before it adopts the workers, so a guess that is wrong here only costs a spawn).
const NOT_PLAIN = /^--(master|chaos|autoscale|nodes|tls|help|version)|^-h$/;

/** The value of --name N or --name=N, as a whole number; undefined when absent, NaN when unreadable. */
function wholeFlag(argv, name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return /^\d+$/.test(argv[i + 1] ?? '') ? Number(argv[i + 1]) : NaN;
    if (argv[i].startsWith(`--${name}=`)) {
      const value = argv[i].slice(name.length + 3);
      return /^\d+$/.test(value) ? Number(value) : NaN;
    }
  }
  return undefined;
}

function transportOf(argv) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--transport') return argv[i + 1];
    if (argv[i].startsWith('--transport=')) return argv[i].slice('--transport='.length);
  }
  return 'grpc';
}

/**
 * Node flags for worker processes: a heap limit, then MR_WORKER_NODE_ARGS (space-separated, e.g.
 * `--cpu-prof --cpu-prof-dir=prof`: flags Node refuses in NODE_OPTIONS reach the workers this
 * way; a later --max-old-space-size there wins over ours).
 *
 * The limit keeps a worker's memory bounded on big inputs: without it V8 lets garbage pile up
 * far past what a task holds (a word count of 1 GiB peaked at 600-870 MiB per worker; with the
 * limit, about 420 MiB). A map task holds about its sort buffer, and a reducer its merge
 * batches and one key's values; a job that holds more raises the limit through the variable.
 */
export function workerNodeArgs(heapMib) {
  return [`--max-old-space-size=${heapMib}`, ...(process.env.MR_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')];
}

/**
 * Spawns one worker process into <workRoot>/worker-<slot> (synchronous: once this returns, it is
 * a child of this process). Its output goes to worker.log there; logStart is where this life's
 * lines begin. argv: what follows bin/mr.mjs (`__worker <options>`).
 */
export function spawnWorkerProcess({ workRoot, slot, argv, nodeArgs, token }) {
  const dir = join(workRoot, `worker-${slot}`);
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, 'worker.log');
  const log = openSync(logPath, 'a');
  const logStart = fstatSync(log).size; // the slot's log outlives its workers
  try {
    const child = spawn(process.execPath, [...nodeArgs, MR_BIN, ...argv(dir)], { stdio: ['pipe', log, log], env: { ...process.env, MR_TOKEN: token } });
    child.stdin?.on('error', () => {}); // a worker that died before it was told: its exit says why
    return { child, slot, dir, logPath, logStart };
  } finally {
    closeSync(log);
  }
}

/** `__worker <options>` for a worker of the plain embedded cluster that reads its master from stdin. */
export function plainWorkerArgv(dir) {
  return ['__worker', JSON.stringify({ listenHost: '127.0.0.1', exitWithParent: true, masterOnStdin: true, workDir: dir, slots: 1, transport: 'grpc' })];
}

/**
 * Spawns the workers of `mr run` when argv (what follows `mr`) looks like a plain embedded run,
 * and leaves them at globalThis[EARLY_WORKERS]. Until mr run adopts them, exit kills them and
 * removes their directory.
 */
export function spawnEarlyWorkers(argv) {
  if (argv[0] !== 'run' || process.env.MR_NO_EARLY_WORKERS || argv.some((arg) => NOT_PLAIN.test(arg)) || transportOf(argv) !== 'grpc') return;
  if (looksUber(argv, process.env)) return; // a tiny job runs in mr run itself (uber-input.mjs)
  const count = wholeFlag(argv, 'workers') ?? Math.max(1, availableParallelism());
  const heapMib = wholeFlag(argv, 'worker-heap-mib') ?? DEFAULT_WORKER_HEAP_MIB;
  if (!(count >= 1 && count <= 256 && heapMib >= 1)) return;
  const workRoot = mkdtempSync(join(tmpdir(), 'mr-run-'));
  const token = randomBytes(18).toString('base64url'); // even on loopback, the cluster only answers to its own processes
  const nodeArgs = workerNodeArgs(heapMib);
  const early = { count, heapMib, workRoot, token, workers: [], adopted: false };
  const drop = () => {
    if (early.adopted) return;
    for (const { child } of early.workers) child.kill('SIGKILL');
    rmSync(workRoot, { recursive: true, force: true });
  };
  process.once('exit', drop);
  early.drop = () => {
    process.off('exit', drop);
    drop();
  };
  for (let slot = 0; slot < count; slot++) early.workers.push(spawnWorkerProcess({ workRoot, slot, argv: plainWorkerArgv, nodeArgs, token }));
  globalThis[EARLY_WORKERS] = early;
}
