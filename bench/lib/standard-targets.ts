// The project's performance targets, each measured from the standard benchmark's sections.
// Pure: figures in, verdicts out. A target whose section was skipped or failed is "not measured"
// (met: null), never silently met. Also the problems that make figures untrustworthy.
import type { BenchRow } from '../../src/bench/sweep.ts';
import { SEQUENTIAL } from './report.ts';
import type { BaselinesResult, SweepResult } from './standard-sweep.ts';
import type { ScalingResult } from './standard-scaling.ts';
import type { MemoryResult, SchedulingResult, StartupResult } from './standard-probes.ts';
import { BUILTIN_JOB, mrRunName, wordcountProblems, type WordcountResult } from './wordcount-ratios.ts';

export interface StandardSections {
  sweep?: SweepResult;
  baselines?: BaselinesResult;
  wordcount?: WordcountResult;
  scaling?: ScalingResult;
  startup?: StartupResult;
  scheduling?: SchedulingResult;
  memory?: MemoryResult;
}

export interface Target {
  id: string;
  /** What is measured, e.g. "2 workers vs the sequential loop". */
  label: string;
  /** The goal as text, e.g. ">= 1.8x". */
  goal: string;
  value: number | null;
  unit: string;
  /** The measured figure as text, with where it comes from. */
  measured: string;
  met: boolean | null;
}

const TARGET_WORKERS = 2;
const PREFERRED_TRANSPORT = 'grpc';

const workersText = (n: number): string => `${n} worker${n === 1 ? '' : 's'}`;
const finite = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n);

/** The 2-worker row the targets use: grpc's if the sweep ran it, else the first backend's. */
export function twoWorkerRow(sweep: SweepResult | undefined): BenchRow | undefined {
  const rows = sweep?.rows.filter((r) => r.workers === TARGET_WORKERS && r.runs > 0) ?? [];
  return rows.find((r) => r.transport === PREFERRED_TRANSPORT) ?? rows[0];
}

function target(id: string, label: string, goal: string, unit: string, value: number | null | undefined, met: (v: number) => boolean, where: string, digits: number): Target {
  if (!finite(value)) return { id, label, goal, unit, value: null, measured: `not measured (${where})`, met: null };
  return { id, label, goal, unit, value, measured: `${value.toFixed(digits)}${unit === 'x' ? 'x' : ` ${unit}`} (${where})`, met: met(value) };
}

/** The word-count section's targets, all on the realistic corpus. */
function wordcountTargets(result: WordcountResult | undefined): Target[] {
  const c = result?.corpora.find((corpus) => corpus.vocab === 'realistic');
  const builtin2 = c?.runs.find((r) => r.run === mrRunName(BUILTIN_JOB) && r.workers === TARGET_WORKERS && r.ok);
  const where = c ? `realistic, ${c.corpus.mib} MiB` : result ? 'no realistic corpus' : 'skipped';
  return [
    target('wordcount-throughput', `built-in word count, ${workersText(TARGET_WORKERS)}, end to end`, '>= 100 MB/s', 'MB/s', builtin2?.mbPerSecond, (v) => v >= 100, where, 1),
    target('wordcount-speedup', 'built-in word count, 1 to 2 workers', '>= 1.8x', 'x', c?.ratios.builtinSpeedup, (v) => v >= 1.8, where, 2),
    target('generic-ratio', 'generic ratio: plain loop / mr run of the string functions, 2 workers', '>= 1.8x', 'x', c?.ratios.genericRatio, (v) => v >= 1.8, where, 2),
  ];
}

export function evaluateTargets(s: StandardSections): Target[] {
  const row = twoWorkerRow(s.sweep);
  const sequential = s.baselines?.runs.find((r) => r.run === SEQUENTIAL && r.ok);
  const rowWhere = row ? `${row.transport} x${row.workers}, ${s.sweep!.corpus.mib} MiB` : s.sweep ? 'no 2-worker sweep run' : 'skipped';
  const speedup = row && sequential?.seconds ? sequential.seconds / (row.medianMs / 1000) : null;
  const worstRatio = s.scaling?.ratios.filter((r) => finite(r.wallRatio)).sort((a, b) => b.wallRatio - a.wallRatio)[0];
  const biggest = s.memory?.ok ? s.memory.processes.reduce((a, p) => (p.maxRssKiB > a.maxRssKiB ? p : a), s.memory.processes[0]) : undefined;
  return [
    target('speedup-vs-sequential', `${TARGET_WORKERS} workers vs the sequential loop`, '>= 1.8x', 'x', speedup, (v) => v >= 1.8,
      sequential || !s.sweep ? rowWhere : 'no sequential loop', 2),
    target('throughput', `${TARGET_WORKERS} workers, throughput`, '>= 100 MB/s', 'MB/s', row?.mbPerSec, (v) => v >= 100, rowWhere, 1),
    target('startup', 'start-up, tiny input, embedded master, through node', '< 0.3 s', 's', s.startup ? s.startup.medianWallMs / 1000 : null, (v) => v < 0.3,
      s.startup ? `median wall of ${s.startup.runs.length}; engine ${(s.startup.medianEngineMs / 1000).toFixed(2)} s; npx ${(s.startup.medianNpxWallMs / 1000).toFixed(2)} s` : 'skipped', 2),
    target('scheduling', 'scheduling throughput', '>= 5000 tasks/s', 'tasks/s', s.scheduling?.mapTasksPerSec, (v) => v >= 5000,
      s.scheduling ? `${s.scheduling.mapTasks ?? 0} map tasks / map phase; all tasks / elapsed ${s.scheduling.tasksPerSec.toFixed(0)}/s` : 'skipped', 0),
    target('small-files', `${s.scheduling?.files ?? '-'} one-line files vs one file of the same lines, wall`, '<= 2x', 'x', s.scheduling?.smallFilesRatio, (v) => v <= 2,
      s.scheduling ? `packed into ${s.scheduling.packedMapTasks ?? '-'} map tasks` : 'skipped', 2),
    target('memory', `largest process RSS, ${s.memory?.mib ?? '-'} MiB input, ${s.memory?.workers ?? TARGET_WORKERS} workers`, '<= 512 MiB', 'MiB',
      biggest ? biggest.maxRssKiB / 1024 : null, (v) => v <= 512, biggest ? `${biggest.role} ${biggest.pid}` : s.memory ? `run failed: ${s.memory.error}` : 'skipped', 0),
    target('input-scaling', 'time(4x input) / time(x), worst pair', '<= 4.3x', 'x', worstRatio?.wallRatio, (v) => v <= 4.3,
      worstRatio ? `${worstRatio.fromMib}->${worstRatio.toMib} MiB at ${workersText(worstRatio.workers)}` : s.scaling ? 'no pair of sizes 4x apart' : 'skipped', 2),
    ...wordcountTargets(s.wordcount),
  ];
}

/** What makes the figures untrustworthy: failed runs and wrong outputs. */
export function problemsOf(sections: StandardSections): string[] {
  const runs = [...(sections.sweep?.runs ?? []), ...(sections.scaling?.runs ?? [])];
  const problems = runs.filter((r) => !r.ok).map((r) => `${r.transport} x${r.workers} #${r.repeat} failed: ${r.error}`);
  if (sections.sweep && !sections.sweep.identical) problems.push('sweep: the runs did not all write the same output');
  if (sections.sweep?.matchesSequential === false) problems.push('sweep: some outputs differ from the sequential loop\'s counts');
  if (sections.scaling && !sections.scaling.identicalPerSize) problems.push('scaling: outputs differ between worker counts');
  problems.push(...(sections.baselines?.runs ?? []).filter((r) => !r.ok).map((r) => `${r.run}: ${r.note}`));
  if (sections.startup?.runs.some((r) => !r.ok)) problems.push('startup: a run failed');
  if (sections.scheduling && !sections.scheduling.ok) problems.push(`scheduling: ${sections.scheduling.error}`);
  if (sections.memory && !sections.memory.ok) problems.push(`memory: ${sections.memory.error}`);
  if (sections.wordcount) problems.push(...wordcountProblems(sections.wordcount));
  // The scaling section reuses the sweep's runs at the sweep's size: one problem, said once.
  return [...new Set(problems)];
}
