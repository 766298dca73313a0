// `mr bench`: how does a job scale? Runs `mr run` (real processes, as a user would) for every
// backend x worker count x repeat, checks that every run wrote the same output, and writes every
// figure as JSON and a Markdown table of medians, with speedup and parallel efficiency against
// the same backend at its smallest worker count, and a speedup plot (SVG and PNG).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, UsageError } from '../errors.ts';
import { createTransport, transportNames } from '../transport/index.ts';
import { expandInputs } from './run-config.ts';
import { speedupPlot } from './speedup-plot.ts';
import { MR_BIN } from './worker-pool.ts';

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

interface BenchRun {
  transport: string;
  workers: number;
  repeat: number;
  ok: boolean;
  error?: string;
  wallMs: number;
  engineMs?: number;
  mbPerSec?: number;
  outputHash?: string;
  mapTasks?: number;
  reduceTasks?: number;
  mapPhaseMs?: number;
  reducePhaseMs?: number;
  shuffleBytes?: number;
  processes?: { role: string; pid: number; cpuMs: number; maxRssKiB: number }[];
  backend?: Record<string, unknown>;
}

interface BenchRow {
  transport: string;
  workers: number;
  medianMs: number;
  mbPerSec: number;
  speedup: number;
  efficiency: number;
  runs: number;
  failed: number;
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
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--workers wants whole numbers of at least 1, got ${w}`);
    return n;
  });
  const transports = list('--transport', args.transport ?? 'grpc');
  for (const t of transports) if (!transportNames().includes(t)) throw new UsageError(`unknown --transport ${t}; available: ${transportNames().join(', ')}`);
  const repeat = args.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError(`--repeat must be a whole number of at least 1, got ${args.repeat}`);
  const files = await expandInputs(args.input);
  const inputBytes = (await Promise.all(files.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0);
  const outDir = resolve(args.out ?? 'mr-bench');
  await mkdir(outDir, { recursive: true });
  const scratch = await mkdtemp(join(tmpdir(), 'mr-bench-'));
  const runs: BenchRun[] = [];
  try {
    for (const transport of transports) {
      for (const n of workers) {
        for (let r = 1; r <= repeat; r++) {
          const run = await runOnce(args, transport, n, r, scratch, inputBytes);
          runs.push(run);
          process.stderr.write(`mr bench: ${transport} x${n} #${r}: ${run.ok ? `${(run.wallMs / 1000).toFixed(2)} s, ${run.mbPerSec?.toFixed(1)} MB/s` : `FAILED: ${run.error}`}\n`);
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const hashes = new Set(runs.filter((r) => r.ok).map((r) => r.outputHash));
  const identical = hashes.size <= 1;
  const rows = summarise(runs, inputBytes);
  const markdown = table(rows, identical, inputBytes);
  const summary = { job: resolve(args.jobs[0]), input: files, inputBytes, workers, transports, repeat, identical, rows, runs };
  await writeFile(join(outDir, 'bench.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(outDir, 'bench.md'), `${markdown}\n`);
  const plot = await speedupPlot(rows.map((r) => ({ backend: r.transport, workers: r.workers, speedup: r.speedup })), `speedup, ${(inputBytes / 1e6).toFixed(1)} MB`);
  await writeFile(join(outDir, 'speedup.svg'), plot.svg);
  await writeFile(join(outDir, 'speedup.png'), plot.png);
  process.stdout.write(`${markdown}\n`);
  process.stderr.write(`mr bench: wrote bench.json, bench.md, speedup.svg and speedup.png in ${outDir}\n`);
  const failed = runs.some((r) => !r.ok);
  if (!identical) process.stderr.write('mr bench: the runs did not all write the same output\n');
  process.exit(failed || !identical ? EXIT.jobFailed : EXIT.ok);
}

async function runOnce(args: BenchArgs, transport: string, workers: number, repeat: number, scratch: string, inputBytes: number): Promise<BenchRun> {
  const output = join(scratch, `${transport}-${workers}-${repeat}`);
  const sized = createTransport(transport)!;
  const scale = sized.machine || sized.capabilities.sizedByNodes ? ['--nodes', String(workers)] : ['--workers', String(workers)];
  const argv = [MR_BIN, 'run', ...args.jobs, ...(args.input ?? []).flatMap((g) => ['--input', g]), '--output', output,
    '--transport', transport, ...scale, '--json', '--quiet',
    ...(args.reducers ? ['--reducers', String(args.reducers)] : []), ...(args.set ?? []).flatMap((s) => ['--set', s])];
  const started = performance.now();
  const { code, stdout, stderr } = await run(argv);
  const wallMs = Math.round(performance.now() - started);
  const base = { transport, workers, repeat, wallMs };
  try {
    if (code !== 0) return { ...base, ok: false, error: stderr.trim().split('\n').pop() ?? `exit ${code}` };
    const result = JSON.parse(stdout);
    const stages = result.stages as { mapTasks: number; reduceTasks: number; mapPhaseMs: number; reducePhaseMs: number; counters: Record<string, number> }[];
    return {
      ...base, ok: true, engineMs: result.elapsedMs, mbPerSec: inputBytes / 1e6 / (wallMs / 1000),
      outputHash: await hashFiles(result.files), mapTasks: sum(stages, (s) => s.mapTasks), reduceTasks: sum(stages, (s) => s.reduceTasks),
      mapPhaseMs: sum(stages, (s) => s.mapPhaseMs), reducePhaseMs: sum(stages, (s) => s.reducePhaseMs),
      shuffleBytes: sum(stages, (s) => s.counters['shuffle.bytes'] ?? 0), processes: result.processes, backend: trimBackend(result.backend),
    };
  } finally {
    await rm(output, { recursive: true, force: true });
  }
}

function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
  });
}

const sum = <T>(items: T[], f: (t: T) => number): number => items.reduce((acc, item) => acc + (f(item) || 0), 0);

async function hashFiles(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) hash.update(await readFile(file));
  return hash.digest('hex');
}

/** Per-link tables stay out: a 1024-node hypercube has thousands of links. */
function trimBackend(backend: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!backend) return undefined;
  const { links: _links, ...rest } = backend;
  return rest;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Medians per backend and worker count; speedup against the backend's smallest worker count. */
export function summarise(runs: BenchRun[], inputBytes: number): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const transport of [...new Set(runs.map((r) => r.transport))]) {
    const mine = runs.filter((r) => r.transport === transport);
    const counts = [...new Set(mine.map((r) => r.workers))].sort((a, b) => a - b);
    let baseMs: number | undefined;
    let baseWorkers = counts[0];
    for (const workers of counts) {
      const ok = mine.filter((r) => r.workers === workers && r.ok);
      const failed = mine.filter((r) => r.workers === workers && !r.ok).length;
      const medianMs = ok.length ? median(ok.map((r) => r.wallMs)) : NaN;
      if (baseMs === undefined && ok.length) {
        baseMs = medianMs;
        baseWorkers = workers;
      }
      const speedup = baseMs !== undefined && ok.length ? baseMs / medianMs : NaN;
      rows.push({ transport, workers, medianMs, mbPerSec: inputBytes / 1e6 / (medianMs / 1000), speedup, efficiency: speedup / (workers / baseWorkers), runs: ok.length, failed });
    }
  }
  return rows;
}

function table(rows: BenchRow[], identical: boolean, inputBytes: number): string {
  const f = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const lines = [
    `mr bench: ${(inputBytes / 1e6).toFixed(1)} MB input; outputs ${identical ? 'identical across all runs' : 'DIFFER between runs'}`,
    '',
    '| backend | workers | median s | MB/s | speedup | efficiency | runs | failed |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.transport} | ${r.workers} | ${f(r.medianMs / 1000, 2)} | ${f(r.mbPerSec, 1)} | ${f(r.speedup, 2)} | ${f(r.efficiency, 2)} | ${r.runs} | ${r.failed} |`),
  ];
  return lines.join('\n');
}
