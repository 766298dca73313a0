// A real cluster on this machine for tests: `mr master` and `mr worker` daemons as processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { MR, ROOT } from './run-mr.ts';

export interface Cluster {
  address: string;
  http?: string;                 // host:port of the status server, when --http is among the master's args
  master: ChildProcess;
  workers: ChildProcess[];
  /** Every line the workers wrote to stderr so far (their JSON log). */
  workerLog: string[];
  /** Starts one more worker, in a work dir of its own or the one given (a worker restarted on it); args: in place of the cluster's worker args. */
  addWorker(workDir?: string, args?: string[]): ChildProcess;
  stop(): Promise<void>;
}

/** env: added to every daemon's environment (MR_FAILPOINTS, say). */
export async function startCluster(workDir: string, workers: number, masterArgs: string[] = [], workerArgs: string[] = [],
  env: NodeJS.ProcessEnv = {}): Promise<Cluster> {
  const master = spawn(process.execPath, [MR, 'master', '--listen', '127.0.0.1:0', '--work-dir', join(workDir, 'master'), ...masterArgs],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  master.stderr!.resume(); // its log (also in <work-dir>/master.log); drained so that it never blocks
  // `listening H:P`, then `http H:P` with --http.
  const wanted = masterArgs.includes('--http') ? 2 : 1;
  const lines = await new Promise<string[]>((resolve, reject) => {
    const got: string[] = [];
    const reader = createInterface({ input: master.stdout! });
    reader.on('line', (line) => {
      got.push(line);
      if (got.length === wanted) {
        reader.close();
        resolve(got);
      }
    });
    master.once('exit', (code) => reject(new Error(`mr master exited with ${code}`)));
  });
  const address = /^listening (\S+)$/.exec(lines[0])?.[1];
  if (!address) throw new Error(`unexpected first line from mr master: ${lines[0]}`);
  const http = wanted === 2 ? /^http (\S+)$/.exec(lines[1])?.[1] : undefined;
  if (wanted === 2 && !http) throw new Error(`unexpected second line from mr master: ${lines[1]}`);
  master.stdout!.resume(); // anything it prints later: drained so that it never blocks
  let next = 0;
  const cluster: Cluster = {
    address, http, master, workers: [], workerLog: [],
    addWorker(dir = join(workDir, `worker-${next++}`), args = workerArgs) {
      const worker = spawn(process.execPath, [MR, 'worker', '--master', address, '--work-dir', dir, ...args],
        { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      createInterface({ input: worker.stderr! }).on('line', (line) => cluster.workerLog.push(line)); // its log, kept; drained so that it never blocks
      cluster.workers.push(worker);
      return worker;
    },
    async stop() {
      const all = [cluster.master, ...cluster.workers].filter((p) => p.exitCode === null && p.signalCode === null);
      for (const p of all) p.kill('SIGKILL');
      await Promise.all(all.map((p) => new Promise((resolve) => p.once('exit', resolve))));
    },
  };
  // Wait until every worker has registered, so that a test's job starts on the whole cluster.
  await Promise.all(Array.from({ length: workers }, () => registered(cluster.addWorker())));
  return cluster;
}

function registered(worker: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    createInterface({ input: worker.stderr! }).on('line', (line) => {
      if (line.includes('"msg":"registered"')) resolve();
    });
    worker.once('exit', (code) => reject(new Error(`mr worker exited with ${code} before registering`)));
  });
}
