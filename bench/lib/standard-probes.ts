// Sections 4 to 6 of the standard benchmark, each one figure of the engine's fixed costs:
// start-up (a tiny job, embedded master: uber, and on worker processes), scheduling throughput (thousands of one-line files, one
// map task each) and memory (the peak RSS of every process on a large corpus).
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastGlob from 'fast-glob';
import { benchRun, describeRun, median, runMr, type BenchProcess, type BenchRun, type MrProcessRun } from '../../src/bench/sweep.ts';
import { MR_BIN } from '../../src/pools/process-pool.ts';
import { REPO_ROOT, progress } from './progress.ts';
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
  /** Start-up steps on the run's time line (ms since mr run began), from --json's processes. */
  steps?: StartupSteps;
  /** The job ran inside mr run (uber mode), as --json says. */
  uber?: boolean;
}

export interface StartupSteps {
  masterEngineMs: number;        // the engine loaded in mr run's own process
  masterReadyMs: number;         // its master listening
  workersStartedMs: number;      // the last worker process started
  workersReadyMs: number;        // the last worker registered
  firstTaskMs: number;           // the first task began
}

export interface StartupResult {
  command: string;
  runs: StartupRun[];
  medianWallMs: number;
  medianEngineMs: number;
  medianSteps?: StartupSteps;
  /** The same command through `npx mr` in the project directory, as the README shows it. */
  npxCommand: string;
  npxRuns: StartupRun[];
  medianNpxWallMs: number;
  /** The same command with --no-uber: worker processes, as every run was before uber mode. */
  processesCommand?: string;
  processesRuns?: StartupRun[];
  medianProcessesWallMs?: number;
}

interface ProcessStartup { role: string; startup?: { startedMs?: number; engineMs?: number; readyMs?: number; firstTaskMs?: number } }

export function startupSteps(processes: ProcessStartup[]): StartupSteps | undefined {
  const master = processes.find((p) => p.role === 'master')?.startup;
  const workers = processes.filter((p) => p.role === 'worker').map((p) => p.startup ?? {});
  if (!master || workers.length === 0) return undefined;
  const latest = (key: 'startedMs' | 'readyMs') => Math.max(...workers.map((w) => w[key] ?? NaN));
  return {
    masterEngineMs: master.engineMs ?? NaN, masterReadyMs: master.readyMs ?? NaN, workersStartedMs: latest('startedMs'), workersReadyMs: latest('readyMs'),
    firstTaskMs: Math.min(...workers.map((w) => w.firstTaskMs ?? Infinity)),
  };
}

/** `mr run jobs/wordcount.ts` on three lines, exactly as a user would type it (no backend flags), through node and through npx. */
export async function runStartup(options: StandardOptions, scratch: string): Promise<StartupResult> {
  const dir = join(scratch, 'startup');
  await mkdir(dir, { recursive: true });
  const input = join(dir, 'tiny.txt');
  await writeFile(input, TINY_TEXT);
  const series = async (label: string, start: (args: string[]) => Promise<MrProcessRun>, extra: string[] = []): Promise<StartupRun[]> => {
    const runs: StartupRun[] = [];
    for (let i = 1; i <= options.startupRepeat; i++) {
      const output = join(dir, `out-${label}-${i}`);
      const run = await start(['run', WORDCOUNT_JOB, '--input', fastGlob.escapePath(input), '--output', output, '--json', '--quiet', ...extra]);
      await rm(output, { recursive: true, force: true });
      const json = run.code === 0 ? JSON.parse(run.stdout) as { elapsedMs?: number; uber?: boolean; processes?: ProcessStartup[] } : undefined;
      const error = run.timedOut ? 'timed out' : run.code !== 0 ? run.stderr.trim().split('\n').pop() ?? `exit ${run.code}` : undefined;
      const steps = json?.processes ? startupSteps(json.processes) : undefined;
      runs.push({ ok: error === undefined, ...(error ? { error } : {}), wallMs: run.wallMs, engineMs: json?.elapsedMs, ...(steps ? { steps } : {}), uber: json?.uber });
      progress(`startup (${label}) #${i}: ${error ? `FAILED: ${error}` : `${run.wallMs} ms wall, ${json?.elapsedMs} ms engine`}`);
    }
    return runs;
  };
  const runs = await series('node', (args) => runMr([MR_BIN, ...args], runTimeoutMs(1)));
  const npxRuns = await series('npx', (args) => runCommand('npx', ['mr', ...args], REPO_ROOT, runTimeoutMs(1)));
  const processesRuns = await series('no-uber', (args) => runMr([MR_BIN, ...args], runTimeoutMs(1)), ['--no-uber']);
  const ok = runs.filter((r) => r.ok);
  const withSteps = ok.filter((r) => r.steps);
  const stepMedian = (key: keyof StartupSteps) => median(withSteps.map((r) => r.steps![key]));
  return {
    command: 'node bin/mr.mjs run jobs/wordcount.ts --input <3 lines> --output <dir> --json --quiet',
    runs, medianWallMs: median(ok.map((r) => r.wallMs)), medianEngineMs: median(ok.map((r) => r.engineMs ?? NaN)),
    ...(withSteps.length ? { medianSteps: {
      masterEngineMs: stepMedian('masterEngineMs'), masterReadyMs: stepMedian('masterReadyMs'), workersStartedMs: stepMedian('workersStartedMs'),
      workersReadyMs: stepMedian('workersReadyMs'), firstTaskMs: stepMedian('firstTaskMs'),
    } } : {}),
    npxCommand: 'npx mr run jobs/wordcount.ts --input <3 lines> --output <dir> --json --quiet',
    npxRuns, medianNpxWallMs: median(npxRuns.filter((r) => r.ok).map((r) => r.wallMs)),
    processesCommand: 'node bin/mr.mjs run jobs/wordcount.ts --input <3 lines> --output <dir> --json --quiet --no-uber',
    processesRuns, medianProcessesWallMs: median(processesRuns.filter((r) => r.ok).map((r) => r.wallMs)),
  };
}

/** A command other than node (npx), timed as runMr times mr. */
function runCommand(command: string, args: string[], cwd: string, timeoutMs: number): Promise<MrProcessRun> {
  return new Promise((resolveRun) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => (stderr += String(error)));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, stdout, stderr, timedOut, wallMs: Math.round(performance.now() - started) });
    });
  });
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
  /** The same files packed into map tasks (the default), and one file of the same lines: wall times and their ratio. */
  packedWallMs?: number;
  packedMapTasks?: number;
  oneFileWallMs?: number;
  smallFilesRatio: number;
}

export function taskRates(run: BenchRun): { mapTasksPerSec: number; tasksPerSec: number } {
  if (!run.ok || !run.mapTasks || !run.mapPhaseMs || !run.engineMs) return { mapTasksPerSec: NaN, tasksPerSec: NaN };
  return { mapTasksPerSec: run.mapTasks / (run.mapPhaseMs / 1000), tasksPerSec: (run.mapTasks + (run.reduceTasks ?? 0)) / (run.engineMs / 1000) };
}

/**
 * The master's task rate: word count over many one-line files, one map task each (--no-packing);
 * then the same files packed into map tasks (the default) against one file of the same lines.
 */
export async function runScheduling(options: StandardOptions, scratch: string): Promise<SchedulingResult> {
  const dir = join(scratch, 'tiny-files');
  await mkdir(dir, { recursive: true });
  progress(`scheduling: writing ${options.tinyFiles} one-line files ...`);
  const width = String(options.tinyFiles).length;
  const lines: string[] = [];
  for (let i = 0; i < options.tinyFiles; i++) {
    lines.push(`file ${i} says hello\n`);
    await writeFile(join(dir, `f${String(i).padStart(width, '0')}.txt`), lines[i]);
  }
  const oneFile = join(scratch, 'tiny-lines.txt');
  await writeFile(oneFile, lines.join(''));
  const plan = (input: string, args: string[] = []) => ({
    jobs: [WORDCOUNT_JOB], input: [input], inputBytes: 0, scratch, args,
    reducers: options.reducers, timeoutMs: runTimeoutMs(1) + options.tinyFiles * 100,
  });
  const glob = `${fastGlob.escapePath(dir)}/*.txt`;
  const run = await benchRun(plan(glob, ['--no-packing']), PROBE_TRANSPORT, PROBE_WORKERS, 1);
  const packed = await benchRun(plan(glob), PROBE_TRANSPORT, PROBE_WORKERS, 2);
  const single = await benchRun(plan(fastGlob.escapePath(oneFile)), PROBE_TRANSPORT, PROBE_WORKERS, 3);
  await rm(dir, { recursive: true, force: true });
  await rm(oneFile, { force: true });
  const rates = taskRates(run);
  const smallFilesRatio = packed.ok && single.ok ? packed.wallMs / single.wallMs : NaN;
  progress(`scheduling: ${run.ok ? `${run.mapTasks} map tasks in ${run.mapPhaseMs} ms: ${rates.mapTasksPerSec.toFixed(0)} map tasks/s` : `FAILED: ${run.error}`}`);
  progress(`small files: packed ${packed.ok ? `${(packed.wallMs / 1000).toFixed(2)} s in ${packed.mapTasks} map tasks` : 'FAILED'}, `
    + `one file ${single.ok ? `${(single.wallMs / 1000).toFixed(2)} s` : 'FAILED'}: ${smallFilesRatio.toFixed(2)}x`);
  return {
    files: options.tinyFiles, workers: PROBE_WORKERS, reducers: options.reducers, ok: run.ok && packed.ok && single.ok,
    ...(run.error || packed.error || single.error ? { error: run.error ?? packed.error ?? single.error } : {}),
    mapTasks: run.mapTasks, reduceTasks: run.reduceTasks, mapPhaseMs: run.mapPhaseMs, engineMs: run.engineMs, ...rates, run,
    packedWallMs: packed.wallMs, packedMapTasks: packed.mapTasks, oneFileWallMs: single.wallMs, smallFilesRatio,
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
