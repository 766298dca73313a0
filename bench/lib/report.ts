// The benchmark's results: one record per run, the Markdown table, the two target statements,
// and the JSON + Markdown files written to the results directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  run: string;
  /** Engine workers for `mr run`; 1 for the single-threaded baselines. */
  workers: number;
  ok: boolean;
  seconds: number | null;
  mbPerSecond: number | null;
  /** Largest resident set of one process of the run (for `mr run`: master or worker, whichever is larger). */
  peakRssKiB: number | null;
  masterRssKiB?: number | null;
  workerRssKiB?: number | null;
  /** One line for the table: what was checked, or why it failed. */
  note: string;
  /** Whatever else the run reported (engine stages and counters, stderr tail, ...), for the JSON. */
  detail?: Record<string, unknown>;
}

export const SEQUENTIAL = 'sequential loop';
export const SHELL = 'shell pipeline';
export const MR_RUN = 'mr run';
const TARGETS = [
  { against: SEQUENTIAL, label: 'sequential loop', target: 1.5 },
  { against: SHELL, label: 'shell pipeline', target: 3 },
];
const TARGET_WORKERS = 2;

export function mbPerSecond(bytes: number, seconds: number): number {
  return bytes / 1e6 / seconds;
}

/** How many times faster `result` is than the named baseline, or null when either did not succeed. */
function speedup(result: RunResult, results: readonly RunResult[], baseline: string): number | null {
  const base = results.find((r) => r.run === baseline);
  if (!base?.ok || !result.ok || !base.seconds || !result.seconds) return null;
  return base.seconds / result.seconds;
}

const mib = (kib: number | null | undefined): string => (kib ? (kib / 1024).toFixed(0) : '–');
const fixed = (value: number | null, digits: number, suffix = ''): string =>
  value === null ? '–' : `${value.toFixed(digits)}${suffix}`;

function rssCell(result: RunResult): string {
  if (result.masterRssKiB || result.workerRssKiB) {
    return `${mib(result.peakRssKiB)} (master ${mib(result.masterRssKiB)}, worker ${mib(result.workerRssKiB)})`;
  }
  return mib(result.peakRssKiB);
}

export function renderTable(results: readonly RunResult[]): string {
  const header = ['run', 'workers', 'seconds', 'MB/s', 'vs sequential loop', 'vs shell', 'peak RSS MiB', 'notes'];
  const rows = results.map((r) => [
    r.run,
    String(r.workers),
    fixed(r.seconds, 2),
    fixed(r.mbPerSecond, 1),
    fixed(speedup(r, results, SEQUENTIAL), 2, 'x'),
    fixed(speedup(r, results, SHELL), 2, 'x'),
    rssCell(r),
    r.note.replaceAll('|', '\\|'),
  ]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface TargetCheck {
  against: string;
  ratio: number | null;
  target: number;
  statement: string;
}

/** The targets as plain statements, not assertions: the bench reports, people judge. */
export function targetChecks(results: readonly RunResult[]): TargetCheck[] {
  const mr = results.find((r) => r.run === MR_RUN && r.workers === TARGET_WORKERS);
  return TARGETS.map(({ against, label, target }) => {
    const ratio = mr ? speedup(mr, results, against) : null;
    const figure = ratio === null ? `n/a (no successful ${TARGET_WORKERS}-worker mr run or ${label})` : `${ratio.toFixed(2)}x`;
    return { against, ratio, target, statement: `${TARGET_WORKERS} workers vs ${label}: ${figure} (target >= ${target}x)` };
  });
}

export function machineInfo(): Record<string, unknown> {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    // The shell baseline's speed depends on the locale (only its first tr runs under LC_ALL=C).
    locale: process.env.LC_ALL || process.env.LANG || '',
    date: new Date().toISOString(),
  };
}

/** Writes <name>.json (every figure) and <name>.md (the table and targets) into outDir. */
export function writeReport(outDir: string, summary: Record<string, unknown>, markdown: string, name = 'wordcount'): string[] {
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, `${name}.json`);
  const md = join(outDir, `${name}.md`);
  writeFileSync(json, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(md, `${markdown}\n`);
  return [json, md];
}
