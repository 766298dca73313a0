// A fresh real cluster for one fault scenario: an `mr master` daemon and W `mr worker` daemons,
// each in its own work directory, started the way test/helpers/cluster.ts does it.
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, progress } from './progress.ts';
import { sleep, spawnTracked, stopChild } from './faults-procs.ts';

export const MR = join(REPO_ROOT, 'bin', 'mr.mjs');
const START_TIMEOUT_MS = 30_000;

export interface FaultCluster {
  address: string;
  master: ChildProcess;
  workers: ChildProcess[];
  /** Worker pids, in start order; scenarios fault workers[0]. */
  workerPids: number[];
  /** How often each worker has registered: more than once means the master presumed it dead. */
  registrations(): number[];
  stop(): Promise<void>;
}

// Daemon logs go to files rather than pipes: a pipe nobody drains would block a chatty daemon.
function logFile(dir: string, name: string): number {
  return openSync(join(dir, `${name}.log`), 'a');
}

async function startMaster(dir: string, masterArgs: string[]): Promise<{ master: ChildProcess; address: string }> {
  const log = logFile(dir, 'master');
  const args = [MR, 'master', '--listen', '127.0.0.1:0', '--work-dir', join(dir, 'master'), ...masterArgs];
  const master = spawnTracked(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  const lines = createInterface({ input: master.stdout! });
  lines.on('line', () => {}); // keeps draining stdout after the first line
  try {
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('mr master printed nothing in 30 s')), START_TIMEOUT_MS);
      lines.once('line', (line) => (clearTimeout(timer), resolve(line)));
      master.once('exit', (code) => (clearTimeout(timer), reject(new Error(`mr master exited with ${code}; see ${dir}/master.log`))));
    });
    const address = /^listening (\S+)$/.exec(first)?.[1];
    if (!address) throw new Error(`unexpected first line from mr master: ${first}`);
    return { master, address };
  } catch (error) {
    await stopChild(master);
    throw error;
  }
}

function startWorker(dir: string, address: string, index: number): ChildProcess {
  const log = logFile(dir, `worker-${index}`);
  const args = [MR, 'worker', '--master', address, '--work-dir', join(dir, `worker-${index}`)];
  const worker = spawnTracked(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', log, log] });
  closeSync(log);
  return worker;
}

function registrationCount(dir: string, index: number): number {
  const file = join(dir, `worker-${index}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('"msg":"registered"').length - 1 : 0;
}

/**
 * Waits until every worker has logged its registration, so the timed run starts on a ready
 * cluster. Only a warning if a worker never says so (the log wording may change): the job still
 * runs, just with worker start-up inside its time.
 */
async function awaitRegistration(dir: string, workers: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const dead = workers.findIndex((w) => w.exitCode !== null || w.signalCode !== null);
    if (dead !== -1) throw new Error(`mr worker ${dead} exited at start; see ${dir}/worker-${dead}.log`);
    if (workers.every((_, i) => registrationCount(dir, i) > 0)) return;
    if (Date.now() > deadline) return progress(`warning: not every worker logged "registered" within 30 s; going on`);
    await sleep(50);
  }
}

export async function startFaultCluster(dir: string, workerCount: number, masterArgs: string[]): Promise<FaultCluster> {
  const { master, address } = await startMaster(dir, masterArgs);
  const workers = Array.from({ length: workerCount }, (_, i) => startWorker(dir, address, i));
  const stop = async (): Promise<void> => {
    await Promise.all([...workers, master].map(stopChild));
  };
  try {
    await awaitRegistration(dir, workers);
  } catch (error) {
    await stop();
    throw error;
  }
  const registrations = (): number[] => workers.map((_, i) => registrationCount(dir, i));
  return { address, master, workers, workerPids: workers.map((w) => w.pid as number), registrations, stop };
}

/** True while the child has neither exited nor been killed. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
