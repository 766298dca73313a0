// Runs one benchmark child process: wall-clock time, stdout, the tail of stderr, and its peak RSS
// from GNU time (the child's own figure would miss the descendants it spawns: workers, sort).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface ChildRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
  stdout: string;
  stderrTail: string;
  /** The line of stderr most likely to say what went wrong, for one-line summaries. */
  stderrErrorLine: string;
  /** Largest resident set of one process in the child's tree (GNU time %M), or null without GNU time. */
  peakRssKiB: number | null;
}

export interface ChildOptions {
  cwd: string;
  timeoutMs: number;
}

const STDERR_KEEP_CHARS = 16_384;
const STDERR_TAIL_LINES = 15;
// Each child leads its own process group, so a timeout or Ctrl-C can take down its whole tree.
const running = new Set<number>();
let interruptHandlerSet = false;

let gnuTimeAvailable: boolean | undefined;
function hasGnuTime(): boolean {
  gnuTimeAvailable ??= spawnSync('/usr/bin/time', ['-f', '%M', '-o', '/dev/null', 'true']).status === 0;
  return gnuTimeAvailable;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function killChildrenOnInterrupt(): void {
  if (interruptHandlerSet) return;
  interruptHandlerSet = true;
  process.once('SIGINT', () => {
    for (const pid of running) killGroup(pid);
    process.exit(130);
  });
}

export function isSuccess(run: ChildRun): boolean {
  return run.exitCode === 0 && !run.timedOut;
}

/** A one-line reason for a failed run, e.g. "exit 1" or "timed out after 600 s". */
export function failureReason(run: ChildRun, options: ChildOptions): string {
  if (run.timedOut) return `timed out after ${Math.round(options.timeoutMs / 1000)} s`;
  return run.signal ? `killed by ${run.signal}` : `exit ${run.exitCode}`;
}

export async function runChild(command: string, args: string[], options: ChildOptions): Promise<ChildRun> {
  killChildrenOnInterrupt();
  const timeDir = hasGnuTime() ? mkdtempSync(join(tmpdir(), 'mr-bench-time-')) : undefined;
  const timeFile = timeDir && join(timeDir, 'rss');
  const [file, argv] = timeFile
    ? ['/usr/bin/time', ['-f', '%M', '-o', timeFile, command, ...args]]
    : [command, args];
  try {
    const run = await spawnTimed(file, argv, options);
    return { ...run, peakRssKiB: timeFile ? readGnuTimeRss(timeFile) : null };
  } finally {
    if (timeDir) rmSync(timeDir, { recursive: true, force: true });
  }
}

// GNU time may write "Command exited with non-zero status N" first; the figure is the last line.
function readGnuTimeRss(timeFile: string): number | null {
  try {
    const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
    const kib = Number(lines[lines.length - 1]);
    return Number.isFinite(kib) && kib > 0 ? kib : null;
  } catch {
    return null;
  }
}

// A crash ends with a stack trace and "Node.js vX"; the line naming the error is the useful one.
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const errors = lines.filter((line) => /error/i.test(line));
  return errors[errors.length - 1] ?? lines[lines.length - 1] ?? '';
}

function spawnTimed(file: string, args: string[], options: ChildOptions): Promise<Omit<ChildRun, 'peakRssKiB'>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, options.timeoutMs);
    child.stdout.on('data', (data: Buffer) => stdout.push(data));
    child.stderr.on('data', (data: Buffer) => {
      stderr = (stderr + data.toString('utf8')).slice(-STDERR_KEEP_CHARS);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      const seconds = (performance.now() - started) / 1000;
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      const stderrTail = stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
      const output = Buffer.concat(stdout).toString('utf8');
      resolve({ exitCode, signal, timedOut, seconds, stdout: output, stderrTail, stderrErrorLine: errorLine(stderr) });
    });
  });
}
