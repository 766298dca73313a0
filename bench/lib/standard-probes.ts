// Sections 4 to 6 of the standard benchmark, each one figure of the engine's fixed costs:
// start-up (a tiny job, embedded master), scheduling throughput (thousands of one-line files, one
// map task each) and memory (the peak RSS of every process on a large corpus).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastGlob from 'fast-glob';
import { benchRun, describeRun, median, runMr, type BenchProcess, type BenchRun } from '../../src/cli/bench-command.ts';
import { MR_BIN } from '../../src/cli/worker-pool.ts';
import { progress } from './progress.ts';
import { runTimeoutMs, type StandardOptions } from './standard-options.ts';
import { corpusOf, WORDCOUNT_JOB, wordcountPlan } from './standard-sweep.ts';

const PROBE_TRANSPORT = 'grpc';
const PROBE_WORKERS = 2;
const TINY_TEXT = 'the quick brown fox\njumps over the lazy dog\nthe end\n';

export interface StartupRun {
  ok: boolean;
  error?: string;
  /** `mr run` from spawn to exit, as a user waits for it. */
  wallMs: number;
  /** The engine's own elapsedMs (--json): submission to the last commit. */
  engineMs?: number;
}

export interface StartupResult {
  command: string;
  runs: StartupRun[];
  medianWallMs: number;
  medianEngineMs: number;
}

/** `mr run jobs/wordcount.ts` on three lines, exactly as a user would type it (no backend flags). */
export async function runStartup(options: StandardOptions, scratch: string): Promise<StartupResult> {
  const dir = join(scratch, 'startup');
  await mkdir(dir, { recursive: true });
  const input = join(dir, 'tiny.txt');
  await writeFile(input, TINY_TEXT);
  const runs: StartupRun[] = [];
  for (let i = 1; i <= options.startupRepeat; i++) {
    const output = join(dir, `out-${i}`);
    const argv = [MR_BIN, 'run', WORDCOUNT_JOB, '--input', fastGlob.escapePath(input), '--output', output, '--json', '--quiet'];
    const run = await runMr(argv, runTimeoutMs(1));
    await rm(output, { recursive: true, force: true });
    const engineMs = run.code === 0 ? (JSON.parse(run.stdout) as { elapsedMs?: number }).elapsedMs : undefined;
    const error = run.timedOut ? 'timed out' : run.code !== 0 ? run.stderr.trim().split('\n').pop() ?? `exit ${run.code}` : undefined;
    runs.push({ ok: error === undefined, ...(error ? { error } : {}), wallMs: run.wallMs, engineMs });
    progress(`startup #${i}: ${error ? `FAILED: ${error}` : `${run.wallMs} ms wall, ${engineMs} ms engine`}`);
  }
  const ok = runs.filter((r) => r.ok);
  return {
    command: 'mr run jobs/wordcount.ts --input <3 lines> --output <dir> --json --quiet',
    runs, medianWallMs: median(ok.map((r) => r.wallMs)), medianEngineMs: median(ok.map((r) => r.engineMs ?? NaN)),
  };
}

export interface SchedulingResult {
  files: number;
  workers: number;
  reducers: number;
  ok: boolean;
  error?: string;
  mapTasks?: number;
  reduceTasks?: number;
  mapPhaseMs?: number;
  engineMs?: number;
  /** Map tasks over the map phase's wall time: the rate the master hands out and commits tasks. */
  mapTasksPerSec: number;
  /** Map and reduce tasks over the engine's whole elapsed time. */
  tasksPerSec: number;
  run: BenchRun;
}

export function taskRates(run: BenchRun): { mapTasksPerSec: number; tasksPerSec: number } {
  if (!run.ok || !run.mapTasks || !run.mapPhaseMs || !run.engineMs) return { mapTasksPerSec: NaN, tasksPerSec: NaN };
  return { mapTasksPerSec: run.mapTasks / (run.mapPhaseMs / 1000), tasksPerSec: (run.mapTasks + (run.reduceTasks ?? 0)) / (run.engineMs / 1000) };
}

export async function runScheduling(options: StandardOptions, scratch: string): Promise<SchedulingResult> {
  const dir = join(scratch, 'tiny-files');
  await mkdir(dir, { recursive: true });
  progress(`scheduling: writing ${options.tinyFiles} one-line files ...`);
  const width = String(options.tinyFiles).length;
  for (let i = 0; i < options.tinyFiles; i++) await writeFile(join(dir, `f${String(i).padStart(width, '0')}.txt`), `file ${i} says hello\n`);
  const plan = {
    jobs: [WORDCOUNT_JOB], input: [`${fastGlob.escapePath(dir)}/*.txt`], inputBytes: 0, scratch,
    reducers: options.reducers, timeoutMs: runTimeoutMs(1) + options.tinyFiles * 100,
  };
  const run = await benchRun(plan, PROBE_TRANSPORT, PROBE_WORKERS, 1);
  await rm(dir, { recursive: true, force: true });
  const rates = taskRates(run);
  const mapNote = run.ok && run.mapTasks !== options.tinyFiles ? `; ${run.mapTasks} map tasks for ${options.tinyFiles} files` : '';
  progress(`scheduling: ${run.ok ? `${run.mapTasks} map tasks in ${run.mapPhaseMs} ms: ${rates.mapTasksPerSec.toFixed(0)} map tasks/s${mapNote}` : `FAILED: ${run.error}`}`);
  return {
    files: options.tinyFiles, workers: PROBE_WORKERS, reducers: options.reducers, ok: run.ok, ...(run.error ? { error: run.error } : {}),
    mapTasks: run.mapTasks, reduceTasks: run.reduceTasks, mapPhaseMs: run.mapPhaseMs, engineMs: run.engineMs, ...rates, run,
  };
}

export interface MemoryResult {
  mib: number;
  bytes: number;
  workers: number;
  ok: boolean;
  error?: string;
  wallMs: number;
  processes: BenchProcess[];
  /** The largest peak RSS of one process (master or worker), from --json. */
  maxRssKiB: number;
  run: BenchRun;
}

export async function runMemory(options: StandardOptions, scratch: string): Promise<MemoryResult> {
  const corpus = await corpusOf(options.memoryMib);
  // No reference check: the sequential loop on this corpus would itself need gigabytes.
  const run = await benchRun(wordcountPlan(corpus, options, scratch), PROBE_TRANSPORT, options.memoryWorkers, 1);
  const processes = run.processes ?? [];
  const maxRssKiB = processes.length ? Math.max(...processes.map((p) => p.maxRssKiB)) : NaN;
  progress(`memory: ${corpus.mib} MiB, ${describeRun(run)}${run.ok ? `; largest RSS ${(maxRssKiB / 1024).toFixed(0)} MiB` : ''}`);
  return {
    mib: corpus.mib, bytes: corpus.bytes, workers: options.memoryWorkers, ok: run.ok, ...(run.error ? { error: run.error } : {}),
    wallMs: run.wallMs, processes, maxRssKiB, run,
  };
}
