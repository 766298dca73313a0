// A real cluster on this machine for tests: `mr master` and `mr worker` daemons as processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { MR, ROOT } from './run-mr.ts';

export interface Cluster {
  address: string;
  master: ChildProcess;
  workers: ChildProcess[];
  /** Starts one more worker, in a work dir of its own or the one given (a worker restarted on it). */
  addWorker(workDir?: string): ChildProcess;
  stop(): Promise<void>;
}

/** env: added to every daemon's environment (MR_FAILPOINTS, say). */
export async function startCluster(workDir: string, workers: number, masterArgs: string[] = [], workerArgs: string[] = [],
  env: NodeJS.ProcessEnv = {}): Promise<Cluster> {
  const master = spawn(process.execPath, [MR, 'master', '--listen', '127.0.0.1:0', '--work-dir', join(workDir, 'master'), ...masterArgs],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: master.stdout! }).once('line', resolve);
    master.once('exit', (code) => reject(new Error(`mr master exited with ${code}`)));
  });
  const address = /^listening (\S+)$/.exec(first)?.[1];
  if (!address) throw new Error(`unexpected first line from mr master: ${first}`);
  let next = 0;
  const cluster: Cluster = {
    address, master, workers: [],
    addWorker(dir = join(workDir, `worker-${next++}`)) {
      const worker = spawn(process.execPath, [MR, 'worker', '--master', address, '--work-dir', dir, ...workerArgs],
        { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      worker.stderr!.resume(); // its log; drained so that it never blocks
      cluster.workers.push(worker);
      return worker;
    },
    async stop() {
      const all = [master, ...cluster.workers].filter((p) => p.exitCode === null && p.signalCode === null);
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
