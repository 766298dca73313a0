// The scaling sweep of `mr bench` and of bench/standard.ts: one `mr run` through the real CLI per
// backend x worker count x repeat, timed from outside, its output hashed; then the medians, with
// speedup and parallel efficiency against the same backend at its smallest worker count, and the
// phase times, as rows and as a Markdown table.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { backendNamed } from '../backends/index.ts';
import { MR_BIN } from '../pools/process-pool.ts';

/** Where a run's time went: wall time of each phase, and task time (summed over attempts) per step. */
export interface PhaseTimes {
  mapWallMs: number;
  reduceWallMs: number;
  mapMs: number;
  shuffleMs: number;
  reduceMs: number;
  commitMs: number;
}

export interface BenchProcess { role: string; pid: number; cpuMs: number; maxRssKiB: number }

export interface BenchRun {
  transport: string;
  workers: number;
  repeat: number;
  ok: boolean;
  error?: string;
  wallMs: number;
  engineMs?: number;
  mbPerSec?: number;
  outputHash?: string;
  /** Set when the caller gave a reference to check the output against. */
  outputMatches?: boolean;
  outputNote?: string;
  mapTasks?: number;
  reduceTasks?: number;
  mapPhaseMs?: number;
  reducePhaseMs?: number;
  phases?: PhaseTimes;
  shuffleBytes?: number;
  processes?: BenchProcess[];
  backend?: Record<string, unknown>;
}

export interface BenchRow {
  transport: string;
  workers: number;
  medianMs: number;
  mbPerSec: number;
  speedup: number;
  efficiency: number;
  /** The run the speedup is against, e.g. "grpc x1". */
  base: string;
  phases: PhaseTimes;
  /** A simulated machine's own figures (MACHINE_FIGURES), medians over its runs. */
  machine?: Record<string, number>;
  runs: number;
  failed: number;
}

/** The machines' figures the bench tables show, where a backend reports them (`backend` of --json; a.b: a nested figure). */
const MACHINE_FIGURES = [
  'simulatedMs', 'messages', 'meanHops', 'maxHops', 'forwarded', 'bisectionBytes', 'shuffle.simulatedMs', 'shuffle.pairMeanHops',
  'localBytes', 'remoteBytes', 'switchTraversals',
] as const;

function figureOf(backend: Record<string, unknown> | undefined, name: string): number | undefined {
  let value: unknown = backend;
  for (const part of name.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return typeof value === 'number' ? value : undefined;
}

function medianMachine(runs: BenchRun[]): Record<string, number> | undefined {
  const figures: Record<string, number> = {};
  for (const name of MACHINE_FIGURES) {
    const values = runs.map((r) => figureOf(r.backend, name)).filter((v): v is number => v !== undefined);
    if (values.length > 0) figures[name] = median(values);
  }
  return Object.keys(figures).length > 0 ? figures : undefined;
}

/** What every run of a sweep shares. */
export interface RunPlan {
  jobs: string[];
  input: string[];
  inputBytes: number;
  /** Each run writes its output under here; it is removed after the run. */
  scratch: string;
  reducers?: number;
  set?: string[];
  /** More arguments of mr run (e.g. --no-packing). */
  args?: string[];
  /** A run still going after this long is killed and counts as failed. */
  timeoutMs?: number;
  /** Checks the output files before they are removed: undefined when right, else what is wrong. */
  checkOutput?: (files: string[]) => Promise<string | undefined>;
}

/** One progress line, e.g. "grpc x2 #1: 3.10 s, 86.6 MB/s". */
export function describeRun(run: BenchRun): string {
  const what = run.ok ? `${(run.wallMs / 1000).toFixed(2)} s, ${run.mbPerSec?.toFixed(1)} MB/s` : `FAILED: ${run.error}`;
  return `${run.transport} x${run.workers} #${run.repeat}: ${what}${run.outputMatches === false ? `; OUTPUT WRONG: ${run.outputNote}` : ''}`;
}

/** True when every successful run wrote the same bytes. */
export function outputsIdentical(runs: BenchRun[]): boolean {
  return new Set(runs.filter((r) => r.ok).map((r) => r.outputHash)).size <= 1;
}

/** The simulated machines and ssi are sized in nodes (one worker each); the others in workers. */
export function scaleArgs(transport: string, workers: number): string[] {
  return backendNamed(transport)?.runs.sizing === 'workers' ? ['--workers', String(workers)] : ['--nodes', String(workers)];
}

/** One `mr run --json` through the real CLI, timed from outside; its output is hashed, then removed. */
export async function benchRun(plan: RunPlan, transport: string, workers: number, repeat: number): Promise<BenchRun> {
  const output = join(plan.scratch, `${transport}-${workers}-${repeat}`);
  const argv = [MR_BIN, 'run', ...plan.jobs, ...plan.input.flatMap((g) => ['--input', g]), '--output', output,
    '--transport', transport, ...scaleArgs(transport, workers), '--json', '--quiet',
    ...(plan.reducers ? ['--reducers', String(plan.reducers)] : []), ...(plan.set ?? []).flatMap((s) => ['--set', s]), ...(plan.args ?? [])];
  const { code, stdout, stderr, timedOut, wallMs } = await runMr(argv, plan.timeoutMs);
  const base = { transport, workers, repeat, wallMs };
  try {
    if (timedOut) return { ...base, ok: false, error: `timed out after ${Math.round((plan.timeoutMs ?? 0) / 1000)} s` };
    if (code !== 0) return { ...base, ok: false, error: stderr.trim().split('\n').pop() ?? `exit ${code}` };
    const result = JSON.parse(stdout);
    const stages = result.stages as { mapTasks: number; reduceTasks: number; mapPhaseMs: number; reducePhaseMs: number; counters: Record<string, number> }[];
    const wrong = plan.checkOutput ? await plan.checkOutput(result.files) : undefined;
    return {
      ...base, ok: true, engineMs: result.elapsedMs, mbPerSec: plan.inputBytes / 1e6 / (wallMs / 1000),
      outputHash: await hashFiles(result.files), ...(plan.checkOutput ? { outputMatches: wrong === undefined, outputNote: wrong } : {}),
      mapTasks: sum(stages, (s) => s.mapTasks), reduceTasks: sum(stages, (s) => s.reduceTasks),
      mapPhaseMs: sum(stages, (s) => s.mapPhaseMs), reducePhaseMs: sum(stages, (s) => s.reducePhaseMs),
      phases: phaseTimes(stages), shuffleBytes: sum(stages, (s) => s.counters['shuffle.bytes'] ?? 0),
      processes: result.processes, backend: trimBackend(result.backend),
    };
  } finally {
    await rm(output, { recursive: true, force: true });
  }
}

/** Wall phases from the stage summary; task times from the engine's time.* counters. */
function phaseTimes(stages: { mapPhaseMs: number; reducePhaseMs: number; counters: Record<string, number> }[]): PhaseTimes {
  const counter = (name: string): number => sum(stages, (s) => s.counters[name] ?? 0);
  return {
    mapWallMs: sum(stages, (s) => s.mapPhaseMs), reduceWallMs: sum(stages, (s) => s.reducePhaseMs),
    mapMs: counter('time.mapMs'), shuffleMs: counter('time.shuffleMs'), reduceMs: counter('time.reduceMs'), commitMs: counter('time.commitMs'),
  };
}

export interface MrProcessRun { code: number; stdout: string; stderr: string; timedOut: boolean; wallMs: number }

/** Runs `node <argv>` (argv[0] is usually MR_BIN) and times it from spawn to exit. */
export function runMr(argv: string[], timeoutMs?: number): Promise<MrProcessRun> {
  return new Promise((resolveRun) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    // The workers exit with their parent, so killing `mr run` ends the whole run.
    const timer = timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs) : undefined;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, stdout, stderr, timedOut, wallMs: Math.round(performance.now() - started) });
    });
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

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const PHASE_KEYS = ['mapWallMs', 'reduceWallMs', 'mapMs', 'shuffleMs', 'reduceMs', 'commitMs'] as const;

function medianPhases(runs: BenchRun[]): PhaseTimes {
  const timed = runs.filter((r) => r.phases);
  return Object.fromEntries(PHASE_KEYS.map((k) => [k, median(timed.map((r) => r.phases![k]))])) as unknown as PhaseTimes;
}

/**
 * Medians per backend and worker count; speedup against the backend's smallest worker count.
 * With commonBase, a backend that has no run that small (the simulated machines start at 2
 * nodes) is measured against commonBase instead, so every line of the plot shares one origin.
 */
export function summarise(runs: BenchRun[], inputBytes: number, commonBase?: { transport: string; workers: number }): BenchRow[] {
  const medianOf = (transport: string, workers: number): number => median(runs.filter((r) => r.transport === transport && r.workers === workers && r.ok).map((r) => r.wallMs));
  const rows: BenchRow[] = [];
  for (const transport of [...new Set(runs.map((r) => r.transport))]) {
    const mine = runs.filter((r) => r.transport === transport);
    const counts = [...new Set(mine.map((r) => r.workers))].sort((a, b) => a - b);
    let base = { label: `${transport} x${counts[0]}`, ms: NaN, workers: counts[0] };
    const own = counts.find((w) => Number.isFinite(medianOf(transport, w)));
    if (own !== undefined) base = { label: `${transport} x${own}`, ms: medianOf(transport, own), workers: own };
    if (commonBase && counts[0] > commonBase.workers) {
      base = { label: `${commonBase.transport} x${commonBase.workers}`, ms: medianOf(commonBase.transport, commonBase.workers), workers: commonBase.workers };
    }
    for (const workers of counts) {
      const ok = mine.filter((r) => r.workers === workers && r.ok);
      const medianMs = median(ok.map((r) => r.wallMs));
      const speedup = base.ms / medianMs;
      rows.push({
        transport, workers, medianMs, mbPerSec: inputBytes / 1e6 / (medianMs / 1000), speedup, efficiency: speedup / (workers / base.workers),
        base: base.label, phases: medianPhases(ok), ...(transport === 'hypercube' || transport === 'butterfly' ? { machine: medianMachine(ok) } : {}), runs: ok.length, failed: mine.filter((r) => r.workers === workers && !r.ok).length,
      });
    }
  }
  return rows;
}

export function sweepHeadline(inputBytes: number, identical: boolean): string {
  return `mr bench: ${(inputBytes / 1e6).toFixed(1)} MB input; outputs ${identical ? 'identical across all runs' : 'DIFFER between runs'}`;
}

const fixed = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
const seconds = (ms: number): string => fixed(ms / 1000, 2);

/** A note for backends whose speedup is against another backend's run. */
function borrowedBases(rows: BenchRow[]): string[] {
  const byBase = new Map<string, Set<string>>();
  for (const r of rows) if (!r.base.startsWith(`${r.transport} x`)) byBase.set(r.base, (byBase.get(r.base) ?? new Set()).add(r.transport));
  return [...byBase].map(([base, transports]) => `\nSpeedup of ${[...transports].join(', ')}: against ${base}, since ${transports.size > 1 ? 'they have' : 'it has'} no run with so few workers.`);
}

/** The table of medians, then where the time went (wall per phase, task time per step). */
export function sweepTables(rows: BenchRow[]): string {
  return [
    '| backend | workers | median s | MB/s | speedup | efficiency | runs | failed |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.transport} | ${r.workers} | ${seconds(r.medianMs)} | ${fixed(r.mbPerSec, 1)} | ${fixed(r.speedup, 2)} | ${fixed(r.efficiency, 2)} | ${r.runs} | ${r.failed} |`),
    ...borrowedBases(rows),
    '',
    'Phase times, medians: wall time of the map and reduce phases, then task time summed over attempts (a map; a reducer\'s shuffle fetch, its reduce, its commit).',
    '',
    '| backend | workers | map wall s | reduce wall s | map task s | shuffle task s | reduce task s | commit task s |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.transport} | ${r.workers} | ${PHASE_KEYS.map((k) => seconds(r.phases[k])).join(' | ')} |`),
    ...machineTable(rows),
  ].join('\n');
}

/** The simulated machines' own figures per node count (see docs/backends.md for each against its closed form). */
function machineTable(rows: BenchRow[]): string[] {
  const machines = rows.filter((r) => r.machine);
  const names = MACHINE_FIGURES.filter((name) => machines.some((r) => r.machine![name] !== undefined));
  if (names.length === 0) return [];
  return [
    '',
    "The simulated machines' own figures, medians (`backend` in `mr run --json`; docs/backends.md says what each is):",
    '',
    `| backend | nodes | ${names.join(' | ')} |`,
    `|---|---|${names.map(() => '---|').join('')}`,
    ...machines.map((r) => `| ${r.transport} | ${r.workers} | ${names.map((name) => (r.machine![name] === undefined ? '-' : String(Math.round(r.machine![name] * 1000) / 1000))).join(' | ')} |`),
  ];
}
