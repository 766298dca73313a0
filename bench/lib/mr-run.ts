// One `mr run` of jobs/wordcount.ts through the real CLI, timed from outside, its --json summary
// read for per-process RSS, and its output checked against the sequential loop's.
import { readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fastGlob from 'fast-glob';
import { failureReason, isSuccess, runChild, type ChildOptions, type ChildRun } from './child-run.ts';
import { REPO_ROOT, progress } from './progress.ts';
import { mbPerSecond, MR_RUN, type RunResult } from './report.ts';
import { compareCounts, describeDiff, isSame, readPartFiles, type WordCounts } from './word-counts.ts';

export const REDUCERS = 4;

interface MrSummary {
  ok?: boolean;
  outputDir?: string;
  files?: string[];
  elapsedMs?: number;
  stages?: unknown[];
  processes?: { role: string; pid: number; cpuMs: number; maxRssKiB: number }[];
  backend?: Record<string, unknown>;
}

/** The one JSON object on stdout; tolerates stray lines before it. */
function parseSummary(stdout: string): MrSummary | undefined {
  const candidates = [stdout.trim(), ...stdout.trim().split('\n').reverse()];
  for (const text of candidates) {
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === 'object') return value as MrSummary;
    } catch {
      // Try the next candidate.
    }
  }
  return undefined;
}

function maxRss(summary: MrSummary, role: string): number | null {
  const rss = (summary.processes ?? []).filter((p) => p.role === role).map((p) => p.maxRssKiB);
  return rss.length > 0 ? Math.max(...rss) : null;
}

function partFiles(summary: MrSummary, outputDir: string): string[] {
  const listed = summary.files ?? readdirSync(outputDir).map((name) => join(outputDir, name));
  return listed.filter((file) => basename(file).startsWith('part-r-')).sort();
}

interface OutputCheck {
  matches: boolean | null;
  note: string;
}

/** Checks the output against the reference; a mismatch is shouted on stderr but does not stop the bench. */
function checkOutput(summary: MrSummary, outputDir: string, reference: WordCounts | null): OutputCheck {
  if (!reference) return { matches: null, note: 'output not checked (no reference)' };
  let note: string;
  try {
    const { counts, duplicated } = readPartFiles(partFiles(summary, summary.outputDir ?? outputDir));
    const diff = compareCounts(reference, counts, duplicated);
    if (isSame(diff)) return { matches: true, note: `output matches the sequential loop (${counts.size} keys)` };
    note = `OUTPUT MISMATCH vs sequential loop: ${describeDiff(diff)}`;
  } catch (error) {
    note = `OUTPUT UNREADABLE: ${(error as Error).message}`;
  }
  progress(`!!! ${note}`);
  return { matches: false, note };
}

function failedRun(workers: number, note: string, detail: { stderrTail: string; stdout: string }): RunResult {
  progress(`!!! mr run with ${workers} workers: ${note}`);
  if (detail.stderrTail) progress(`stderr tail:\n    ${detail.stderrTail.split('\n').join('\n    ')}`);
  return { run: MR_RUN, workers, ok: false, seconds: null, mbPerSecond: null, peakRssKiB: null, note, detail };
}

function mrRunArgs(corpus: string, outputDir: string, workers: number, scale?: string[]): string[] {
  const job = join(REPO_ROOT, 'jobs', 'wordcount.ts');
  // --input is a glob: escape the corpus path so a '(' or '*' in it is taken literally.
  const io = ['--input', fastGlob.escapePath(corpus), '--output', outputDir];
  const flags = [...(scale ?? ['--workers', String(workers)]), '--reducers', String(REDUCERS), '--json', '--quiet'];
  return [join(REPO_ROOT, 'bin', 'mr.mjs'), 'run', job, ...io, ...flags];
}

function succeededRun(workers: number, bytes: number, run: ChildRun, summary: MrSummary, check: OutputCheck): RunResult {
  const masterRssKiB = maxRss(summary, 'master');
  const workerRssKiB = maxRss(summary, 'worker');
  const peaks = [masterRssKiB, workerRssKiB, run.peakRssKiB].filter((kib): kib is number => kib !== null);
  return {
    run: MR_RUN,
    workers,
    ok: true,
    seconds: run.seconds,
    mbPerSecond: mbPerSecond(bytes, run.seconds),
    peakRssKiB: peaks.length > 0 ? Math.max(...peaks) : null,
    masterRssKiB,
    workerRssKiB,
    note: check.note,
    detail: { outputMatches: check.matches, engineElapsedMs: summary.elapsedMs, stages: summary.stages, processes: summary.processes, backend: summary.backend },
  };
}

export async function runMrWordcount(
  corpus: string,
  bytes: number,
  workers: number,
  reference: WordCounts | null,
  options: ChildOptions,
  /** Replaces `--workers N`: the backend and its size, e.g. ['--transport', 'hypercube', '--nodes', '8']. */
  scale?: string[],
): Promise<RunResult> {
  const outputDir = mkdtempSync(join(tmpdir(), 'mr-bench-out-'));
  try {
    const run = await runChild(process.execPath, mrRunArgs(corpus, outputDir, workers, scale), options);
    const summary = parseSummary(run.stdout);
    if (!isSuccess(run) || !summary?.ok) {
      const why = isSuccess(run) ? 'no {"ok": true} JSON on stdout' : failureReason(run, options);
      const detail = { stderrTail: run.stderrTail, stdout: run.stdout.slice(0, 2000) };
      return failedRun(workers, ['FAILED: ' + why, run.stderrErrorLine].filter(Boolean).join('; '), detail);
    }
    return succeededRun(workers, bytes, run, summary, checkOutput(summary, outputDir, reference));
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}
