// One `mr run jobs/wordcount.ts` submitted to a running master, timed from outside, with its
// progress polled every 200 ms so a fault can be injected at the right moment.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import fastGlob from 'fast-glob';
import { createTransport } from '../../src/backends/index.ts';
import type { MasterClient } from '../../src/wires/index.ts';
import { MR } from './faults-cluster.ts';
import { exited, sleep, spawnTracked, stopChild } from './faults-procs.ts';
import { REDUCERS } from './mr-run.ts';
import { REPO_ROOT } from './progress.ts';

const POLL_MS = 200;
const STDERR_KEEP_CHARS = 8192;

export interface JobProgress {
  state: string;
  phase: string;
  mapDone: number;
  mapTotal: number;
  reduceDone: number;
  reduceTotal: number;
  sinceStartMs: number;
}

export interface StageSummary {
  mapTasks: number;
  reduceTasks: number;
  mapPhaseMs: number;
  reducePhaseMs: number;
  mapAttempts: number;
  reduceAttempts: number;
  backupAttempts: number;
  failedAttempts: number;
  counters: Record<string, number>;
}

export interface MrSummary {
  ok?: boolean;
  elapsedMs?: number;
  files?: string[];
  outputDir?: string;
  stages?: StageSummary[];
  processes?: unknown[];
}

export interface JobRequest {
  address: string;
  corpus: string;
  outputDir: string;
  splitMib: number;
  speculation: boolean;
  timeoutMs: number;
  onProgress(progress: JobProgress): void;
}

export interface JobRun {
  ok: boolean;
  wallSeconds: number;
  jobId?: string;
  summary?: MrSummary;
  /** Why it failed, when it did. */
  error?: string;
  stderrTail: string;
  polls: number;
}

function runArgs(request: JobRequest): string[] {
  const job = join(REPO_ROOT, 'jobs', 'wordcount.ts');
  // --input is a glob: escape the corpus path so a '(' or '*' in it is taken literally.
  const io = ['--input', fastGlob.escapePath(request.corpus), '--output', request.outputDir, '--master', request.address];
  const flags = ['--reducers', String(REDUCERS), '--split-mib', String(request.splitMib), '--json', '--quiet'];
  return [MR, 'run', job, ...io, ...flags, ...(request.speculation ? [] : ['--no-speculation'])];
}

/** The one JSON object on stdout; tolerates stray lines before it. */
function parseSummary(stdout: string): MrSummary | undefined {
  for (const text of [stdout.trim(), ...stdout.trim().split('\n').reverse()]) {
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === 'object') return value as MrSummary;
    } catch {
      // Try the next candidate.
    }
  }
  return undefined;
}

/**
 * Polls the master in this process, as `mr status <id> --json` would: spawning that command
 * every 200 ms costs about a CPU-second per call here and would itself slow the job measured.
 */
async function pollProgress(client: MasterClient, run: { jobId?: string; done: boolean; polls: number }, started: number, onProgress: JobRequest['onProgress']): Promise<void> {
  while (!run.done) {
    await sleep(POLL_MS);
    if (run.jobId === undefined || run.done) continue;
    try {
      const status = await client.getJobStatus({ jobId: run.jobId });
      const stage = status.stages[status.stage - 1];
      run.polls++;
      const counts = { mapDone: stage?.mapDone ?? 0, mapTotal: stage?.mapTotal ?? 0, reduceDone: stage?.reduceDone ?? 0, reduceTotal: stage?.reduceTotal ?? 0 };
      onProgress({ state: status.state, phase: status.phase, ...counts, sinceStartMs: performance.now() - started });
    } catch {
      // The master may be busy or the job not yet known; the next poll tries again.
    }
  }
}

export async function runJob(request: JobRequest): Promise<JobRun> {
  const started = performance.now();
  const child = spawnTracked(process.execPath, runArgs(request), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: { jobId?: string; done: boolean; polls: number } = { done: false, polls: 0 };
  let stdout = '';
  let stderr = '';
  // Decoded as streams, so a character split across two chunks stays whole.
  child.stdout!.setEncoding('utf8').on('data', (data: string) => (stdout += data));
  child.stderr!.setEncoding('utf8').on('data', (data: string) => {
    stderr = (stderr + data).slice(-STDERR_KEEP_CHARS);
    run.jobId ??= /^job (\S+)$/m.exec(stderr)?.[1];
  });
  const client = createTransport('grpc')!.connectMaster(request.address);
  const polling = pollProgress(client, run, started, request.onProgress);
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), void stopChild(child)), request.timeoutMs);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await exited(child);
  await closed; // stdout fully read
  const wallSeconds = (performance.now() - started) / 1000;
  clearTimeout(timer);
  run.done = true;
  await polling;
  client.close();
  return finishRun(run.jobId, wallSeconds, stdout, stderr, run.polls, timedOut ? `timed out after ${request.timeoutMs / 1000} s` : exitNote(child.exitCode, child.signalCode));
}

function exitNote(code: number | null, signalName: NodeJS.Signals | null): string | undefined {
  if (code === 0) return undefined;
  return signalName ? `killed by ${signalName}` : `exit ${code}`;
}

function finishRun(jobId: string | undefined, wallSeconds: number, stdout: string, stderr: string, polls: number, failure: string | undefined): JobRun {
  const stderrTail = stderr.trimEnd().split('\n').slice(-15).join('\n');
  const summary = parseSummary(stdout);
  const error = failure ?? (summary?.ok ? undefined : 'no {"ok": true} JSON on stdout');
  return { ok: error === undefined, wallSeconds, jobId, summary, error, stderrTail, polls };
}

/** The part files of a finished run, in name order, concatenated: the bytes to compare across runs. */
export function readOutput(summary: MrSummary | undefined, outputDir: string): Buffer {
  const dir = summary?.outputDir ?? outputDir;
  const listed = summary?.files ?? readdirSync(dir).map((name) => join(dir, name));
  const parts = listed.filter((file) => basename(file).startsWith('part-r-')).sort();
  return Buffer.concat(parts.map((file) => readFileSync(file)));
}
