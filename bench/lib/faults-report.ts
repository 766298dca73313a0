// The fault benchmark's figures: one record per run, one table row per scenario (medians over
// repeats), the ratios against the fault-free run as plain statements, and faults.json / faults.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultRecord } from './faults-inject.ts';

export type OutputCheck = 'reference' | 'matches' | 'MISMATCH' | 'unchecked';

export interface ScenarioRun {
  scenario: string;
  label: string;
  repeat: number;
  ok: boolean;
  wallSeconds: number | null;
  engineSeconds: number | null;
  mapTasks: number | null;
  mapAttempts: number | null;
  reduceAttempts: number | null;
  backupAttempts: number | null;
  failedAttempts: number | null;
  output: OutputCheck;
  outputNote: string;
  /** Set when the job's counters differ from the fault-free run's (they should not). */
  countersNote?: string;
  /** counter -> [this run, fault-free run], for the counters that differ. */
  countersDiff?: Record<string, [number | null, number | null]>;
  /** Times the master presumed a live worker dead (it missed heartbeats) and it re-registered. */
  reRegistrations: number;
  /** The machine's 1-minute load average just before the run. */
  loadBefore?: number;
  fault: FaultRecord;
  error?: string;
  detail: Record<string, unknown>;
}

export interface ScenarioRow {
  scenario: string;
  label: string;
  runs: number;
  failures: number;
  seconds: number | null;
  engineSeconds: number | null;
  ratio: number | null;
  notes: string;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const numbers = (values: (number | null)[]): number[] => values.filter((v): v is number => v !== null);
/** A figure per run, "18" or "18, 19" with repeats. */
const listed = (runs: ScenarioRun[], pick: (r: ScenarioRun) => number | null): string =>
  runs.map((r) => (pick(r) === null ? '–' : String(pick(r)))).join(', ');

/** The distinct values, in order: repeats of a scenario mostly say the same. */
const distinct = (values: (string | undefined)[]): string[] => [...new Set(values.filter((v): v is string => !!v))];

function rowNotes(runs: ScenarioRun[], engineSeconds: number | null, baseEngine: number | null): string {
  const notes: string[] = [];
  // The engine's own time leaves out the client's start-up, which is the same in every scenario.
  const engineRatio = engineSeconds !== null && baseEngine ? ` (${(engineSeconds / baseEngine).toFixed(2)}x)` : '';
  if (engineSeconds !== null) notes.push(`engine ${engineSeconds.toFixed(1)} s${engineRatio}`);
  const faults = distinct(runs.map((r) => r.fault.note));
  if (faults.length > 0) notes.push(faults.join(' / '));
  const presumed = runs.filter((r) => r.reRegistrations > 0).map((r) => `${r.reRegistrations}x`);
  if (presumed.length > 0) notes.push(`LIVE WORKER PRESUMED DEAD and re-registered: ${presumed.join(', ')}`);
  notes.push(...distinct(runs.map((r) => (r.ok ? undefined : `FAILED: ${r.error ?? 'unknown'}`))));
  notes.push(...distinct(runs.map((r) => (r.output === 'MISMATCH' || r.output === 'unchecked' ? r.outputNote : undefined))));
  notes.push(...distinct(runs.map((r) => r.countersNote)));
  if (runs.every((r) => r.output === 'matches' || r.output === 'reference')) notes.push('output identical');
  return notes.join('; ');
}

export function summarize(runs: ScenarioRun[], order: { id: string; label: string }[]): ScenarioRow[] {
  const rows = order.map(({ id, label }) => {
    const mine = runs.filter((r) => r.scenario === id);
    const ok = mine.filter((r) => r.ok);
    const seconds = median(numbers(ok.map((r) => r.wallSeconds)));
    const engineSeconds = median(numbers(ok.map((r) => r.engineSeconds)));
    return { scenario: id, label, runs: mine.length, failures: mine.length - ok.length, seconds, engineSeconds, ratio: null, notes: '' };
  });
  const base = rows.find((r) => r.scenario === 'fault-free');
  return rows.map((r) => ({
    ...r,
    ratio: base?.seconds && r.seconds !== null ? r.seconds / base.seconds : null,
    notes: rowNotes(runs.filter((run) => run.scenario === r.scenario), r.engineSeconds, base?.engineSeconds ?? null),
  }));
}

export function renderTable(rows: ScenarioRow[], runs: ScenarioRun[]): string {
  const header = ['scenario', 'seconds', 'ratio vs fault-free', 'map attempts', 'backups', 'failed attempts', 'notes'];
  const body = rows.map((row) => {
    const mine = runs.filter((r) => r.scenario === row.scenario);
    return [
      row.label,
      row.seconds === null ? '–' : row.seconds.toFixed(2),
      row.ratio === null ? '–' : `${row.ratio.toFixed(2)}x`,
      `${listed(mine, (r) => r.mapAttempts)} (of ${listed(mine, (r) => r.mapTasks)} tasks)`,
      listed(mine, (r) => r.backupAttempts),
      listed(mine, (r) => r.failedAttempts),
      row.notes.replaceAll('|', '\\|'),
    ];
  });
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

const percent = (ratio: number | null): string =>
  ratio === null ? 'n/a (a run failed)' : `${ratio >= 1 ? '+' : '-'}${Math.abs((ratio - 1) * 100).toFixed(0)}%`;

/** The three comparisons with the MapReduce paper, as statements: the bench reports, people judge. */
export function statements(rows: ScenarioRow[]): string[] {
  const ratio = (id: string): number | null => rows.find((r) => r.scenario === id)?.ratio ?? null;
  return [
    `killed worker: ${percent(ratio('killed'))} (Google: +5%)`,
    `slow worker with backups: ${percent(ratio('slow'))}`,
    `slow worker without backups: ${percent(ratio('slow-no-spec'))} (Google, no backup tasks: +44%)`,
  ];
}

/** Writes faults.json (every figure) and faults.md (table, statements, notes) into outDir. */
export function writeFaultReport(outDir: string, summary: Record<string, unknown>, markdown: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, 'faults.json');
  const md = join(outDir, 'faults.md');
  writeFileSync(json, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(md, `${markdown}\n`);
  return [json, md];
}
