// The word-count section's records and its derived ratios. Pure: runs in, ratios out. Every
// ratio is the time of the slower side's reference over the time of the run judged (base s / run
// s), so above 1 means the run judged is faster; null when either side did not succeed.
import type { CorpusInfo } from './standard-sweep.ts';
import { SHELL, type RunResult } from './report.ts';
import type { Vocabulary } from './corpus.ts';

export const BUILTIN_JOB = 'wordcount.ts';
export const STRINGS_JOB = 'wordcount-strings.ts';
export const FLOOR_2 = 'byte floor, 2 threads';

export const mrRunName = (job: string): string => `mr run ${job}`;
export const loopName = (job: string): string => `plain loop, ${job}`;

/** One run of the section: `mr run`, a plain loop, the byte floor or the shell pipeline. */
export interface WordcountRun extends RunResult {
  /** The engine's own elapsed time and map/reduce phase wall times, from `mr run --json`. */
  engineMs?: number | null;
  mapPhaseMs?: number | null;
  reducePhaseMs?: number | null;
  /** Its output against the plain loop of the same job's functions; null when not checked. */
  outputMatches?: boolean | null;
  /** Taken from that section's identical run rather than run twice. */
  reusedFrom?: 'sweep' | 'baselines';
}

export interface WordcountRatios {
  /** mr run x1 / x2, per job. */
  builtinSpeedup: number | null;
  stringsSpeedup: number | null;
  /** Plain loop of the string functions / mr run wordcount-strings.ts at 2 workers. */
  genericRatio: number | null;
  /** Byte floor at 2 threads, and the shell pipeline, over mr run wordcount.ts at 2 workers. */
  builtinVsFloor: number | null;
  builtinVsShell: number | null;
}

export interface WordcountCorpus {
  vocab: Vocabulary;
  corpus: CorpusInfo;
  /** The two plain loops gave the same counts; null when either failed. */
  loopsAgree: boolean | null;
  runs: WordcountRun[];
  ratios: WordcountRatios;
}

export interface WordcountResult {
  reducers: number;
  corpora: WordcountCorpus[];
}

function seconds(runs: readonly WordcountRun[], name: string, workers?: number): number | null {
  const run = runs.find((r) => r.run === name && (workers === undefined || r.workers === workers));
  return run?.ok && run.seconds ? run.seconds : null;
}

function over(base: number | null, run: number | null): number | null {
  return base !== null && run !== null ? base / run : null;
}

export function wordcountRatios(runs: readonly WordcountRun[]): WordcountRatios {
  const builtin2 = seconds(runs, mrRunName(BUILTIN_JOB), 2);
  const strings2 = seconds(runs, mrRunName(STRINGS_JOB), 2);
  return {
    builtinSpeedup: over(seconds(runs, mrRunName(BUILTIN_JOB), 1), builtin2),
    stringsSpeedup: over(seconds(runs, mrRunName(STRINGS_JOB), 1), strings2),
    genericRatio: over(seconds(runs, loopName(STRINGS_JOB)), strings2),
    builtinVsFloor: over(seconds(runs, FLOOR_2), builtin2),
    builtinVsShell: over(seconds(runs, SHELL), builtin2),
  };
}

/** Failed runs and wrong outputs; a reused run's are reported by the section it came from. */
export function wordcountProblems(result: WordcountResult): string[] {
  return result.corpora.flatMap((c) => [
    ...c.runs.filter((r) => !r.reusedFrom && !r.ok).map((r) => `wordcount, ${c.vocab}: ${r.run} x${r.workers}: ${r.note}`),
    ...c.runs.filter((r) => !r.reusedFrom && r.outputMatches === false).map((r) => `wordcount, ${c.vocab}: ${r.run} x${r.workers}: ${r.note}`),
    ...(c.loopsAgree === false ? [`wordcount, ${c.vocab}: the plain loops of ${BUILTIN_JOB} and ${STRINGS_JOB} counted differently`] : []),
  ]);
}
