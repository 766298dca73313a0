// Worker processes that `mr run` starts itself (embedded mode): real OS processes running
// `mr worker`, stopped with SIGTERM, then SIGKILL after a grace period. No orphans: each
// worker also exits when its parent's pipe closes.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MR_BIN = fileURLToPath(new URL('../../bin/mr.mjs', import.meta.url));

export interface WorkerPoolOptions {
  count: number;
  masterAddress: string;
  workRoot: string;
  transport: string;
  slots?: number;
  token: string;                 // given to the workers in MR_TOKEN, not in argv (which `ps` shows)
  onAllExited?: (why: string) => void;
}

export class WorkerPool {
  private readonly children: ChildProcess[] = [];
  private exited = 0;

  constructor(private readonly options: WorkerPoolOptions) {}

  async start(): Promise<void> {
    for (let i = 0; i < this.options.count; i++) {
      const dir = join(this.options.workRoot, `worker-${i}`);
      await mkdir(dir, { recursive: true });
      this.children.push(this.spawnWorker(dir));
    }
  }

  private spawnWorker(dir: string): ChildProcess {
    const logPath = join(dir, 'worker.log');
    const log = openSync(logPath, 'a');
    const args = [MR_BIN, 'worker', '--master', this.options.masterAddress, '--work-dir', dir,
      '--slots', String(this.options.slots ?? 1), '--transport', this.options.transport, '--exit-with-parent'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', log, log], env: { ...process.env, MR_TOKEN: this.options.token } });
    closeSync(log);
    child.on('exit', (code, signal) => {
      this.exited++;
      if (this.exited === this.children.length && this.options.onAllExited) {
        const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
        this.options.onAllExited(`every worker exited (last: ${signal ?? `code ${code}`}${tail ? `: ${tail.slice(0, 300)}` : ''})`);
      }
    });
    return child;
  }

  get pids(): number[] {
    return this.children.map((child) => child.pid ?? 0);
  }

  /** Waits for the workers to exit (after the master told them to), then TERM, then KILL. */
  async stop(graceMs: number): Promise<void> {
    this.options.onAllExited = undefined;
    const alive = () => this.children.filter((child) => child.exitCode === null && child.signalCode === null);
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

  /** Immediate stop, for a second Ctrl-C. */
  killAll(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}
