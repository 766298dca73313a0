// `mr bench`: how does a job scale? Runs the sweep (src/bench/sweep.ts: `mr run` as a user would,
// for every backend x worker count x repeat), checks that every run wrote the same output, and
// writes every figure as JSON, a Markdown table of medians, and a speedup plot (SVG and PNG).
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PLOT_PACKAGES_HINT, speedupPlot } from '../bench/speedup-plot.ts';
import { benchRun, describeRun, outputsIdentical, summarise, sweepHeadline, sweepTables, type BenchRun, type RunPlan } from '../bench/sweep.ts';
import { EXIT, UsageError } from '../errors.ts';
import { expandInputs } from './input-files.ts';
import { checkTransportName } from './transport-arg.ts';

export interface BenchArgs {
  jobs: string[];
  input?: string[];
  workers?: string;
  transport?: string;
  repeat?: number;
  out?: string;
  reducers?: number;
  set?: string[];
}


function list(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} wants a comma-separated list, got ${JSON.stringify(text)}`);
  return items;
}

export async function benchCommand(args: BenchArgs): Promise<void> {
  if (args.jobs.length === 0) throw new UsageError('give a job file: mr bench <job.ts> --input <glob>');
  if (!args.input?.length) throw new UsageError('--input <glob> is required (quote the glob)');
  const workers = list('--workers', args.workers ?? '1,2').map((w) => {
    const n = Number(w);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--workers wants whole numbers of at least 1, got '${w}'`);
    return n;
  });
  const transports = list('--transport', args.transport ?? 'grpc');
  for (const t of transports) checkTransportName(t);
  const repeat = args.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError(`--repeat must be a whole number of at least 1, got ${args.repeat}`);
  const files = await expandInputs(args.input);
  const inputBytes = (await Promise.all(files.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0);
  const outDir = resolve(args.out ?? 'mr-bench');
  await mkdir(outDir, { recursive: true });
  const scratch = await mkdtemp(join(tmpdir(), 'mr-bench-'));
  const plan: RunPlan = { jobs: args.jobs, input: args.input, inputBytes, scratch, reducers: args.reducers, set: args.set };
  const runs: BenchRun[] = [];
  try {
    for (const transport of transports) {
      for (const n of workers) {
        for (let r = 1; r <= repeat; r++) {
          const run = await benchRun(plan, transport, n, r);
          runs.push(run);
          process.stderr.write(`mr bench: ${describeRun(run)}\n`);
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const identical = outputsIdentical(runs);
  const rows = summarise(runs, inputBytes);
  const markdown = [sweepHeadline(inputBytes, identical), '', sweepTables(rows)].join('\n');
  const summary = { job: resolve(args.jobs[0]), input: files, inputBytes, workers, transports, repeat, identical, rows, runs };
  await writeFile(join(outDir, 'bench.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(outDir, 'bench.md'), `${markdown}\n`);
  const plot = await speedupPlot(rows.map((r) => ({ backend: r.transport, workers: r.workers, speedup: r.speedup })), `speedup, ${(inputBytes / 1e6).toFixed(1)} MB`);
  if (plot) {
    await writeFile(join(outDir, 'speedup.svg'), plot.svg);
    await writeFile(join(outDir, 'speedup.png'), plot.png);
  }
  process.stdout.write(`${markdown}\n`);
  const plotted = plot ? ', speedup.svg and speedup.png' : '';
  process.stderr.write(`mr bench: wrote bench.json, bench.md${plotted} in ${outDir}\n`);
  if (!plot) process.stderr.write(`mr bench: no speedup plot (its packages are optional; ${PLOT_PACKAGES_HINT})\n`);
  const failed = runs.some((r) => !r.ok);
  if (!identical) process.stderr.write('mr bench: the runs did not all write the same output\n');
  process.exit(failed || !identical ? EXIT.jobFailed : EXIT.ok);
}
