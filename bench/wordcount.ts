// Word-count benchmark: `mr run jobs/wordcount.ts` at several worker counts against three
// no-engine baselines on the same corpus. It prints and records figures; it asserts nothing.
// npm run bench:wordcount -- [--mib 256] [--workers 1,2] [--out bench/results] [--corpus <file>] [--timeout-s N]
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import job from '../jobs/wordcount.ts';
import { runByteFloor, runSequentialBaseline, runShellBaseline } from './lib/baselines.ts';
import { CORPUS_SEED, corpusCacheDir, ensureCorpus } from './lib/corpus.ts';
import { REDUCERS, runMrWordcount } from './lib/mr-run.ts';
import { REPO_ROOT, progress } from './lib/progress.ts';
import { machineInfo, renderTable, targetChecks, writeReport, type RunResult } from './lib/report.ts';

interface BenchOptions {
  mib: number;
  workers: number[];
  outDir: string;
  corpus?: string;
  timeoutMs: number;
}

function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${option} wants a whole number of at least 1, not ${JSON.stringify(text)}`);
  return value;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      mib: { type: 'string', default: '256' },
      workers: { type: 'string', default: '1,2' },
      out: { type: 'string' },
      corpus: { type: 'string' },
      'timeout-s': { type: 'string' },
    },
  });
  const mib = positiveInteger(values.mib, 'mib');
  return {
    mib,
    workers: values.workers.split(',').map((w) => positiveInteger(w.trim(), 'workers')),
    // An explicit --out is relative to where the user stands; the default lives in the repo.
    outDir: values.out ? resolve(values.out) : resolve(REPO_ROOT, 'bench', 'results'),
    corpus: values.corpus ? resolve(values.corpus) : undefined,
    // Generous, so only a hung run is stopped: a minute plus 4 s per MiB.
    timeoutMs: values['timeout-s'] ? positiveInteger(values['timeout-s'], 'timeout-s') * 1000 : (60 + 4 * mib) * 1000,
  };
}

function describe(result: RunResult): string {
  if (!result.ok) return `${result.run} (${result.workers}): ${result.note}`;
  return `${result.run} (${result.workers}): ${result.seconds?.toFixed(2)} s, ${result.mbPerSecond?.toFixed(1)} MB/s`;
}

/** Runs everything in an order that keeps the in-process baseline's RSS figure clean: it goes first. */
async function runAll(options: BenchOptions, corpus: string, bytes: number): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const done = (result: RunResult): void => {
    results.push(result);
    progress(describe(result));
  };
  const child = { cwd: REPO_ROOT, timeoutMs: options.timeoutMs };
  progress('sequential loop (the job in this process) ...');
  const sequential = await runSequentialBaseline(job, corpus, bytes);
  done(sequential.result);
  for (const threads of [1, 2]) {
    progress(`byte floor, ${threads} thread(s) ...`);
    done(await runByteFloor(corpus, bytes, threads, child));
  }
  progress('shell pipeline ...');
  done(await runShellBaseline(corpus, bytes, child));
  for (const workers of options.workers) {
    progress(`mr run with ${workers} workers ...`);
    done(await runMrWordcount(corpus, bytes, workers, sequential.counts, child));
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const corpus = options.corpus ?? (await ensureCorpus(options.mib));
  const bytes = statSync(corpus).size;
  progress(`corpus ${corpus}: ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  const results = await runAll(options, corpus, bytes);
  const targets = targetChecks(results);
  const title = `Word count, ${(bytes / 1e6).toFixed(1)} MB corpus, ${REDUCERS} reducers`;
  const markdown = [`## ${title}`, '', renderTable(results), '', ...targets.map((t) => `- ${t.statement}`)].join('\n');
  const summary = {
    machine: machineInfo(),
    corpus: { path: corpus, bytes, mib: bytes / 1024 / 1024, seed: options.corpus ? null : CORPUS_SEED, cacheDir: corpusCacheDir() },
    options: { workers: options.workers, reducers: REDUCERS, timeoutMs: options.timeoutMs },
    runs: results,
    targets,
  };
  const files = writeReport(options.outDir, summary, markdown);
  console.log(`${markdown.replace(/^- /gm, '')}\n`);
  progress(`wrote ${files.join(' and ')}`);
}

main().catch((error: unknown) => {
  progress(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
