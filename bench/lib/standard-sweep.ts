// Sections 1 and 2 of the standard benchmark: the backend x worker-count sweep of the word count
// (the runs of `mr bench`, each output also checked against the sequential loop), and the three
// no-engine baselines on the same corpus.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import fastGlob from 'fast-glob';
import type { JobDefinition } from 'mr';
import { benchRun, describeRun, outputsIdentical, summarise, type BenchRow, type BenchRun, type RunPlan } from '../../src/bench/sweep.ts';
import { runByteFloor, runSequentialBaseline, runShellBaseline } from './baselines.ts';
import { ensureCorpus, type Vocabulary } from './corpus.ts';
import { REPO_ROOT, progress } from './progress.ts';
import type { RunResult } from './report.ts';
import { runTimeoutMs, type StandardOptions } from './standard-options.ts';
import { compareCounts, describeDiff, isSame, readPartFiles, type WordCounts } from './word-counts.ts';

export const WORDCOUNT_JOB = `${REPO_ROOT}jobs/wordcount.ts`;

export interface CorpusInfo {
  path: string;
  bytes: number;
  mib: number;
}

export async function corpusOf(mib: number, vocab: Vocabulary = 'realistic'): Promise<CorpusInfo> {
  const path = await ensureCorpus(mib, vocab);
  return { path, bytes: statSync(path).size, mib };
}

export interface SweepResult {
  corpus: CorpusInfo;
  reducers: number;
  repeat: number;
  /** Every successful run wrote the same bytes. */
  identical: boolean;
  /** Every successful run's counts equal the sequential loop's; null without a reference. */
  matchesSequential: boolean | null;
  rows: BenchRow[];
  runs: BenchRun[];
}

export interface BaselinesResult {
  corpus: CorpusInfo;
  /** The sequential loop first (it always runs: it is the sweep's reference), then the others unless skipped. */
  runs: RunResult[];
}

/** A word-count run plan over one corpus; its outputs go to scratch, outside the repository. */
export function wordcountPlan(corpus: CorpusInfo, options: StandardOptions, scratch: string, reference?: WordCounts | null, job = WORDCOUNT_JOB): RunPlan {
  return {
    jobs: [job], input: [fastGlob.escapePath(corpus.path)], inputBytes: corpus.bytes, scratch,
    reducers: options.reducers, timeoutMs: runTimeoutMs(corpus.mib),
    checkOutput: reference ? async (files) => differenceFrom(reference, files) : undefined,
  };
}

function differenceFrom(reference: WordCounts, files: string[]): string | undefined {
  const { counts, duplicated } = readPartFiles(files.filter((f) => basename(f).startsWith('part-r-')).sort());
  const diff = compareCounts(reference, counts, duplicated);
  return isSame(diff) ? undefined : describeDiff(diff);
}

/** Runs the sequential loop (in this process, first, so its RSS figure is its own) and the other baselines. */
export async function runBaselines(job: JobDefinition, corpus: CorpusInfo, others: boolean): Promise<{ result: BaselinesResult; reference: WordCounts | null }> {
  progress(`baselines: sequential loop on ${corpus.mib} MiB ...`);
  const sequential = await runSequentialBaseline(job, corpus.path, corpus.bytes);
  const runs = [sequential.result];
  progress(`  ${describeBaseline(sequential.result)}`);
  if (others) {
    const child = { cwd: REPO_ROOT, timeoutMs: runTimeoutMs(corpus.mib) };
    for (const threads of [1, 2]) {
      progress(`baselines: byte floor, ${threads} thread(s) ...`);
      runs.push(await runByteFloor(corpus.path, corpus.bytes, threads, child));
      progress(`  ${describeBaseline(runs[runs.length - 1])}`);
    }
    progress('baselines: shell pipeline ...');
    runs.push(await runShellBaseline(corpus.path, corpus.bytes, child));
    progress(`  ${describeBaseline(runs[runs.length - 1])}`);
  }
  return { result: { corpus, runs }, reference: sequential.counts };
}

function describeBaseline(r: RunResult): string {
  return r.ok ? `${r.run}: ${r.seconds?.toFixed(2)} s, ${r.mbPerSecond?.toFixed(1)} MB/s` : `${r.run}: ${r.note}`;
}

/** The worker-sized backends at each worker count, then the simulated machines at each node count. */
export function sweepPlan(options: StandardOptions): { transport: string; workers: number }[] {
  return [
    ...options.transports.flatMap((transport) => options.workers.map((workers) => ({ transport, workers }))),
    ...options.machines.flatMap((transport) => options.nodes.map((workers) => ({ transport, workers }))),
  ];
}

export async function runSweep(options: StandardOptions, corpus: CorpusInfo, reference: WordCounts | null, scratch: string): Promise<SweepResult> {
  const plan = wordcountPlan(corpus, options, scratch, reference);
  const runs: BenchRun[] = [];
  for (const { transport, workers } of sweepPlan(options)) {
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      const run = await benchRun(plan, transport, workers, repeat);
      runs.push(run);
      progress(`sweep: ${describeRun(run)}`);
    }
  }
  const ok = runs.filter((r) => r.ok);
  const commonBase = options.transports.length && options.workers.length ? { transport: options.transports[0], workers: Math.min(...options.workers) } : undefined;
  return {
    corpus, reducers: options.reducers, repeat: options.repeat,
    identical: outputsIdentical(runs),
    matchesSequential: reference ? ok.every((r) => r.outputMatches) : null,
    rows: summarise(runs, corpus.bytes, commonBase),
    runs,
  };
}
