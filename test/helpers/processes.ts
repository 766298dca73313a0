// The processes a test started, seen from outside (ps and /proc): to check that none is left running.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Child processes of pid as [pid, command line]. */
export function children(pid: number): [number, string][] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n').filter((line) => line.trim()).map((line) => {
        const [, id, args] = /^\s*(\d+)\s+(.*)$/.exec(line)!;
        return [Number(id), args];
      });
  } catch {
    return [];
  }
}

export function descendants(pid: number): number[] {
  return children(pid).flatMap(([child]) => [child, ...descendants(child)]);
}

export function commandOf(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '(gone)';
  }
}

/** Running (a zombie, dead but not yet reaped by an init that may never reap it, counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pids of pids still running after up to 5 s (grandchildren go when their parent's pipe closes), with their command lines. */
export async function stillRunning(pids: readonly number[]): Promise<string[]> {
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(alive).map((pid) => `${pid}: ${commandOf(pid)}`);
}

/** Resolves once what the child has written on stderr matches pattern. */
export function stderrShows(child: ChildProcess, pattern: RegExp): Promise<void> {
  let stderr = '';
  return new Promise<void>((resolve) => child.stderr!.on('data', (d) => {
    stderr += d;
    if (pattern.test(stderr)) resolve();
  }));
}

/** The pids of pid's `mr worker` children, once there are `count` of them (or what there is after 5 s). */
export async function workerChildren(pid: number, count: number): Promise<number[]> {
  let workers: number[] = [];
  for (let i = 0; i < 50 && workers.length < count; i++) {
    workers = children(pid).filter(([, args]) => / (__)?worker /.test(args)).map(([id]) => id);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return workers;
}

/** Sends the signal twice, 50 ms apart: two signals sent at once may arrive as one. */
export async function signalTwice(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal);
  await new Promise((resolve) => setTimeout(resolve, 50));
  child.kill(signal);
}
