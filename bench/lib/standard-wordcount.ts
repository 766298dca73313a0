// The word-count section of the standard benchmark: what the engine's word count is measured
// against, on the realistic corpus and then the large-vocabulary one, at the sweep's size. The
// built-in job (byte-level path) and the string-function job (generic path) through `mr run` at
// 1 and 2 workers, each checked against its own functions in a plain loop (own process), the
// byte floor at 1 and 2 threads, and the shell pipeline.
import { join } from 'node:path';
import { benchRun, describeRun, type BenchRun } from '../../src/bench/sweep.ts';
import { runByteFloor, runPlainLoop, runShellBaseline } from './baselines.ts';
import type { Vocabulary } from './corpus.ts';
import { REPO_ROOT, progress } from './progress.ts';
import { SHELL, type RunResult } from './report.ts';
import { runTimeoutMs, type StandardOptions } from './standard-options.ts';
import { corpusOf, wordcountPlan, type BaselinesResult, type CorpusInfo, type SweepResult } from './standard-sweep.ts';
import { compareCounts, isSame, type WordCounts } from './word-counts.ts';
import {
  BUILTIN_JOB, FLOOR_2, mrRunName, STRINGS_JOB, wordcountRatios, type WordcountCorpus, type WordcountResult, type WordcountRun,
} from './wordcount-ratios.ts';

export const WORDCOUNT_VOCABS: readonly Vocabulary[] = ['realistic', 'large'];
const TRANSPORT = 'grpc';
const WORKERS = [1, 2];
const FLOOR_1 = 'byte floor, 1 thread';

/** The sections that may already hold an identical run (same corpus, backend, workers, reducers). */
export interface EarlierRuns {
  sweep?: SweepResult;
  baselines?: BaselinesResult;
}

const jobPath = (job: string): string => join(REPO_ROOT, 'jobs', job);

function describe(r: WordcountRun): string {
  const what = r.ok ? `${r.seconds?.toFixed(2)} s, ${r.mbPerSecond?.toFixed(1)} MB/s` : r.note;
  return `${r.run}${r.run.startsWith('mr run') ? ` x${r.workers}` : ''}: ${what}${r.reusedFrom ? ` (from the ${r.reusedFrom})` : ''}`;
}

function maxRss(run: BenchRun, role?: string): number | null {
  const rss = (run.processes ?? []).filter((p) => role === undefined || p.role === role).map((p) => p.maxRssKiB);
  return rss.length > 0 ? Math.max(...rss) : null;
}

function outputNote(run: BenchRun): string {
  if (!run.ok) return `FAILED: ${run.error}`;
  if (run.outputMatches === undefined) return 'output not checked (no plain loop)';
  return run.outputMatches ? 'output matches the plain loop' : `OUTPUT WRONG: ${run.outputNote}`;
}

/** A `mr run` as a record of this section: wall time from outside, the engine's figures from --json. */
export function fromBenchRun(name: string, run: BenchRun, reusedFrom?: 'sweep'): WordcountRun {
  return {
    run: name, workers: run.workers, ok: run.ok,
    seconds: run.ok ? run.wallMs / 1000 : null, mbPerSecond: run.ok ? run.mbPerSec ?? null : null,
    peakRssKiB: maxRss(run), masterRssKiB: maxRss(run, 'master'), workerRssKiB: maxRss(run, 'worker'),
    engineMs: run.engineMs ?? null, mapPhaseMs: run.mapPhaseMs ?? null, reducePhaseMs: run.reducePhaseMs ?? null,
    outputMatches: run.outputMatches ?? null, note: outputNote(run),
    detail: { transport: run.transport, phases: run.phases, mapTasks: run.mapTasks, reduceTasks: run.reduceTasks, shuffleBytes: run.shuffleBytes, processes: run.processes },
    ...(reusedFrom ? { reusedFrom } : {}),
  };
}

function sweepRun(earlier: EarlierRuns, corpus: CorpusInfo, reducers: number, workers: number): BenchRun | undefined {
  const sweep = earlier.sweep;
  if (sweep?.corpus.path !== corpus.path || sweep.reducers !== reducers) return undefined;
  return sweep.runs.find((r) => r.ok && r.transport === TRANSPORT && r.workers === workers);
}

function baselineRun(earlier: EarlierRuns, corpus: CorpusInfo, name: string): RunResult | undefined {
  if (earlier.baselines?.corpus.path !== corpus.path) return undefined;
  return earlier.baselines.runs.find((r) => r.ok && r.run === name);
}

async function runMrJobs(options: StandardOptions, corpus: CorpusInfo, references: Map<string, WordCounts | null>, earlier: EarlierRuns, scratch: string, record: (r: WordcountRun) => void): Promise<void> {
  for (const job of [BUILTIN_JOB, STRINGS_JOB]) {
    const plan = wordcountPlan(corpus, options, scratch, references.get(job), jobPath(job));
    for (const workers of WORKERS) {
      // The sweep's run of the same job on the same corpus is this one: its figures are reused.
      const reused = job === BUILTIN_JOB ? sweepRun(earlier, corpus, options.reducers, workers) : undefined;
      if (reused) {
        record(fromBenchRun(mrRunName(job), reused, 'sweep'));
        continue;
      }
      const run = await benchRun(plan, TRANSPORT, workers, 1);
      if (run.outputMatches === false) progress(`!!! ${describeRun(run)}`);
      record(fromBenchRun(mrRunName(job), run));
    }
  }
}

async function runBaselineRuns(corpus: CorpusInfo, earlier: EarlierRuns, record: (r: WordcountRun) => void): Promise<void> {
  const child = { cwd: REPO_ROOT, timeoutMs: runTimeoutMs(corpus.mib) };
  const steps: [string, () => Promise<RunResult>][] = [
    [FLOOR_1, () => runByteFloor(corpus.path, corpus.bytes, 1, child)],
    [FLOOR_2, () => runByteFloor(corpus.path, corpus.bytes, 2, child)],
    [SHELL, () => runShellBaseline(corpus.path, corpus.bytes, child)],
  ];
  for (const [name, run] of steps) {
    const reused = baselineRun(earlier, corpus, name);
    record(reused ? { ...reused, reusedFrom: 'baselines' } : await run());
  }
}

async function runCorpus(options: StandardOptions, vocab: Vocabulary, earlier: EarlierRuns, scratch: string): Promise<WordcountCorpus> {
  const corpus = await corpusOf(options.sweepMib, vocab);
  const runs: WordcountRun[] = [];
  const record = (r: WordcountRun): void => {
    runs.push(r);
    progress(`wordcount, ${vocab}: ${describe(r)}`);
  };
  // The loops first: their counts are the references the mr runs are checked against.
  const references = new Map<string, WordCounts | null>();
  for (const job of [BUILTIN_JOB, STRINGS_JOB]) {
    const { result, counts } = await runPlainLoop(jobPath(job), corpus.path, corpus.bytes, { cwd: REPO_ROOT, timeoutMs: runTimeoutMs(corpus.mib) });
    references.set(job, counts);
    record(result);
  }
  const [builtin, strings] = [references.get(BUILTIN_JOB), references.get(STRINGS_JOB)];
  const loopsAgree = builtin && strings ? isSame(compareCounts(builtin, strings)) : null;
  await runBaselineRuns(corpus, earlier, record);
  await runMrJobs(options, corpus, references, earlier, scratch, record);
  return { vocab, corpus, loopsAgree, runs, ratios: wordcountRatios(runs) };
}

export async function runWordcount(options: StandardOptions, earlier: EarlierRuns, scratch: string): Promise<WordcountResult> {
  const corpora: WordcountCorpus[] = [];
  for (const vocab of WORDCOUNT_VOCABS) corpora.push(await runCorpus(options, vocab, earlier, scratch));
  return { reducers: options.reducers, corpora };
}
