// The three no-engine runs `mr run` is measured against: the job's own code in a sequential loop
// (in this process, or in a child of its own), the byte-level floor at 1 and 2 threads (own
// process), and a coreutils pipeline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { JobDefinition } from 'mr';
import { failureReason, isSuccess, runChild, type ChildOptions } from './child-run.ts';
import { REPO_ROOT } from './progress.ts';
import { mbPerSecond, SEQUENTIAL, SHELL, type RunResult } from './report.ts';
import { runJobSequentially } from './sequential-loop.ts';
import { readPartFiles, type WordCounts } from './word-counts.ts';

// The text as given in the brief: only the first tr is forced to the C locale. pipefail makes a
// failing stage count as a failed run.
const SHELL_PIPELINE = `set -o pipefail; LC_ALL=C tr -cs A-Za-z '\\n' < "$1" | tr A-Z a-z | sort | uniq -c > /dev/null`;

function failed(run: string, note: string, detail?: Record<string, unknown>): RunResult {
  return { run, workers: 1, ok: false, seconds: null, mbPerSecond: null, peakRssKiB: null, note, detail };
}

/**
 * Runs the job in this process. Its peak RSS is this process's lifetime peak, so the bench runs
 * it first, before anything else has grown the heap.
 */
export async function runSequentialBaseline(
  job: JobDefinition,
  corpus: string,
  bytes: number,
): Promise<{ result: RunResult; counts: WordCounts | null }> {
  const started = performance.now();
  try {
    const counts = await runJobSequentially(job, corpus);
    const seconds = (performance.now() - started) / 1000;
    const peakRssKiB = process.resourceUsage().maxRSS;
    const note = `reference output: ${counts.size} distinct keys; RSS includes the bench process`;
    const result = { run: SEQUENTIAL, workers: 1, ok: true, seconds, mbPerSecond: mbPerSecond(bytes, seconds), peakRssKiB, note };
    return { result, counts };
  } catch (error) {
    return { result: failed(SEQUENTIAL, `FAILED: ${(error as Error).message}`), counts: null };
  }
}

/**
 * The same loop over one job file in a child process (bench/lib/plain-loop.ts), so its heap is
 * its own. `seconds` is the loop's own time, as for the in-process loop; the wall time with the
 * process start is in the detail. Returns its counts too, the reference for that job's runs.
 */
export async function runPlainLoop(jobPath: string, corpus: string, bytes: number, options: ChildOptions): Promise<{ result: RunResult; counts: WordCounts | null }> {
  const name = `plain loop, ${basename(jobPath)}`;
  const dir = mkdtempSync(join(tmpdir(), 'mr-bench-loop-'));
  try {
    const countsFile = join(dir, 'counts');
    const script = join(REPO_ROOT, 'bench', 'lib', 'plain-loop.ts');
    const run = await runChild(process.execPath, [join(REPO_ROOT, 'bin', 'tsx.mjs'), script, jobPath, corpus, '--counts', countsFile], options);
    if (!isSuccess(run)) return { result: failed(name, `FAILED: ${failureReason(run, options)}; ${run.stderrErrorLine}`, { stderrTail: run.stderrTail }), counts: null };
    let own: { distinct: number; elapsedMs: number; maxRssKiB: number };
    try {
      own = JSON.parse(run.stdout);
    } catch {
      return { result: failed(name, 'FAILED: its stdout is not JSON', { stdout: run.stdout.slice(0, 1000) }), counts: null };
    }
    const seconds = own.elapsedMs / 1000;
    const result = {
      run: name, workers: 1, ok: true, seconds, mbPerSecond: mbPerSecond(bytes, seconds), peakRssKiB: own.maxRssKiB,
      note: `own process; ${own.distinct} distinct words; ${run.seconds.toFixed(2)} s with process start`,
      detail: { ...own, wallSeconds: run.seconds },
    };
    return { result, counts: readPartFiles([countsFile]).counts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The byte-level floor (bench/lib/byte-floor.mjs, own process): raw bytes hashed into a typed
 * table, no string per word, on `threads` threads; what one core (or two) can do with no engine.
 */
export async function runByteFloor(corpus: string, bytes: number, threads: number, options: ChildOptions): Promise<RunResult> {
  const name = `byte floor, ${threads} thread${threads === 1 ? '' : 's'}`;
  const script = join(REPO_ROOT, 'bench', 'lib', 'byte-floor.mjs');
  const run = await runChild(process.execPath, [script, corpus, '--threads', String(threads)], options);
  if (!isSuccess(run)) return failed(name, `FAILED: ${failureReason(run, options)}`, { stderrTail: run.stderrTail });
  let own: { words: number; distinct: number; elapsedMs: number; maxRssKiB: number };
  try {
    own = JSON.parse(run.stdout);
  } catch {
    return failed(name, 'FAILED: its stdout is not JSON', { stdout: run.stdout.slice(0, 1000) });
  }
  return {
    run: name,
    workers: threads,
    ok: true,
    seconds: run.seconds,
    mbPerSecond: mbPerSecond(bytes, run.seconds),
    peakRssKiB: run.peakRssKiB ?? own.maxRssKiB,
    note: `ASCII letters only; ${own.distinct} distinct words; ${(own.elapsedMs / 1000).toFixed(2)} s without process start`,
    detail: { ...own },
  };
}

export async function runShellBaseline(corpus: string, bytes: number, options: ChildOptions): Promise<RunResult> {
  const run = await runChild('bash', ['-c', SHELL_PIPELINE, 'shell-baseline', corpus], options);
  if (!isSuccess(run)) return failed(SHELL, `FAILED: ${failureReason(run, options)}`, { stderrTail: run.stderrTail });
  return {
    run: SHELL,
    workers: 1,
    ok: true,
    seconds: run.seconds,
    mbPerSecond: mbPerSecond(bytes, run.seconds),
    peakRssKiB: run.peakRssKiB,
    note: 'tr | tr | sort | uniq -c; RSS of its largest process',
    detail: { command: SHELL_PIPELINE },
  };
}
