// Every process the fault benchmark starts, and the guarantee that none outlives it: each child
// leads its own process group, and on exit, error or Ctrl-C every group is resumed (a stopped
// process must not be left behind) and killed.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const groups = new Set<number>();
const scratchDirs = new Set<string>();
let handlersInstalled = false;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends a signal to one process; false when it is already gone. */
export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGCONT then SIGKILL to the group of a child that is still tracked (so still alive: an exited
 * child's pid may already belong to someone else). SIGCONT first so nothing is left stopped.
 */
export function killGroup(pid: number): void {
  if (!groups.has(pid)) return;
  for (const name of ['SIGCONT', 'SIGKILL'] as const) {
    try {
      process.kill(-pid, name);
    } catch {
      // Already gone.
    }
  }
  groups.delete(pid);
}

export function killAll(): void {
  for (const pid of [...groups]) killGroup(pid);
  // process.exit() skips the finally blocks that would have removed these.
  for (const dir of [...scratchDirs]) {
    try {
      removeScratchDir(dir);
    } catch (error) {
      process.stderr.write(`[bench] could not remove ${dir}: ${(error as Error).message}\n`);
    }
  }
}

/** A temporary directory that is removed even when the bench is interrupted. */
export function makeScratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.add(dir);
  return dir;
}

export function removeScratchDir(dir: string): void {
  // Retries: a daemon killed a moment ago may still be closing files in it.
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  scratchDirs.delete(dir);
}

// 'exit' covers normal ends and process.exit() from error paths (kill is synchronous, so it works
// there); the signal handlers turn Ctrl-C and kill into an exit that runs it.
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAll);
  for (const [name, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(name, () => {
      process.stderr.write(`[bench] ${name}: stopping every process started\n`);
      killAll();
      process.exit(code);
    });
  }
}

/** Spawns a child in its own process group and tracks it until it exits. */
export function spawnTracked(file: string, args: string[], options: SpawnOptions): ChildProcess {
  installHandlers();
  const child = spawn(file, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${file} ${args.join(' ')}`);
  groups.add(pid);
  // Once reaped its pid may be reused, so it must never be signalled again.
  child.once('exit', () => groups.delete(pid));
  return child;
}

/** Resolves once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Kills the child's group and waits for the child to be reaped. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killGroup(child.pid);
  await exited(child);
}
