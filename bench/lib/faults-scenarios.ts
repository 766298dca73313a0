// The four fault scenarios and how one of them is run: a fresh cluster, the fault, the job, and
// the output compared byte for byte with the fault-free run's.
import { join } from 'node:path';
import { startFaultCluster, type FaultCluster } from './faults-cluster.ts';
import { killAtHalfMap, noFault, slowDown, type Fault, type FaultRecord } from './faults-inject.ts';
import type { OutputCheck, ScenarioRun } from './faults-report.ts';
import { makeScratchDir, removeScratchDir } from './faults-procs.ts';
import { readOutput, runJob, type JobProgress, type JobRun } from './faults-run.ts';
import { progress } from './progress.ts';

/** The same on every master, so a dead worker is noticed within 2 s in every scenario alike. */
export const DEFAULT_WORKER_TIMEOUT_MS = 2000;

export interface Scenario {
  id: string;
  label: string;
  speculation: boolean;
  fault(cluster: FaultCluster): Fault;
}

// Faults always hit the first worker started; which one does not matter, they are alike.
export const SCENARIOS: Scenario[] = [
  { id: 'fault-free', label: 'fault-free', speculation: true, fault: () => noFault() },
  { id: 'killed', label: 'worker killed at 50% of map', speculation: true, fault: (c) => killAtHalfMap(c.workerPids[0]) },
  { id: 'slow', label: 'one worker 10x slower', speculation: true, fault: (c) => slowDown(c.workerPids[0]) },
  { id: 'slow-no-spec', label: 'one worker 10x slower, --no-speculation', speculation: false, fault: (c) => slowDown(c.workerPids[0]) },
];

export interface RunSettings {
  corpus: string;
  workers: number;
  splitMib: number;
  timeoutMs: number;
  workerTimeoutMs: number;
}

/** Progress on stderr when the phase changes, and otherwise every 5 s. */
function progressPrinter(): (p: JobProgress) => void {
  let lastPhase = '';
  let lastAt = 0;
  return (p) => {
    if (p.phase === lastPhase && p.sinceStartMs - lastAt < 5000) return;
    lastPhase = p.phase;
    lastAt = p.sinceStartMs;
    progress(`  ${(p.sinceStartMs / 1000).toFixed(1)} s: ${p.phase}, map ${p.mapDone}/${p.mapTotal}, reduce ${p.reduceDone}/${p.reduceTotal}`);
  };
}

/** Runs one scenario on its own fresh cluster; returns the run and its concatenated output. */
export interface ScenarioResult {
  job: JobRun;
  fault: FaultRecord;
  output?: Buffer;
  /** Times a worker came back after the master had presumed it dead (missed heartbeats). */
  reRegistrations: number;
}

export async function runScenario(scenario: Scenario, settings: RunSettings): Promise<ScenarioResult> {
  const dir = makeScratchDir('mr-bench-faults-');
  try {
    const cluster = await startFaultCluster(dir, settings.workers, ['--worker-timeout-ms', String(settings.workerTimeoutMs)]);
    const fault = scenario.fault(cluster);
    const printer = progressPrinter();
    let job: JobRun;
    let record: FaultRecord;
    try {
      fault.start();
      job = await runJob({
        address: cluster.address, corpus: settings.corpus, outputDir: join(dir, 'output'), splitMib: settings.splitMib,
        speculation: scenario.speculation, timeoutMs: settings.timeoutMs,
        onProgress: (p) => (printer(p), fault.onProgress(p)),
      });
    } finally {
      // Undo the fault (resume a stopped worker) before anything else, whatever happened.
      record = await fault.finish();
      await cluster.stop();
    }
    const reRegistrations = cluster.registrations().reduce((total, n) => total + Math.max(0, n - 1), 0);
    if (reRegistrations > 0) progress(`!!! the master presumed a live worker dead ${reRegistrations} time(s): it re-registered`);
    return { job, fault: record, output: job.ok ? readOutput(job.summary, join(dir, 'output')) : undefined, reRegistrations };
  } finally {
    removeScratchDir(dir);
  }
}

/** Compares a run's output with the fault-free reference; a mismatch is shouted, not thrown. */
export function checkOutput(output: Buffer | undefined, reference: Buffer | undefined): { output: OutputCheck; outputNote: string } {
  if (!output) return { output: 'unchecked', outputNote: 'no output to check (run failed)' };
  if (!reference) return { output: 'unchecked', outputNote: 'output not checked: no fault-free reference' };
  if (output.equals(reference)) return { output: 'matches', outputNote: `output identical to fault-free (${output.length} bytes)` };
  let at = 0;
  while (at < output.length && at < reference.length && output[at] === reference[at]) at++;
  const note = `OUTPUT MISMATCH vs fault-free: ${output.length} vs ${reference.length} bytes, first difference at byte ${at}`;
  progress(`!!! ${note}`);
  return { output: 'MISMATCH', outputNote: note };
}

// Counts only what reducers fetched from other workers, so it depends on where tasks ran.
const PLACEMENT_DEPENDENT = new Set(['shuffle.bytes']);

/**
 * Names the counters that differ from the fault-free run's. The output may be right while the
 * counters are not, e.g. when the work of a lost, re-run map task is counted twice.
 */
export function checkCounters(job: JobRun, reference: Record<string, number> | undefined): { countersNote?: string; countersDiff?: Record<string, [number | null, number | null]> } {
  const counters = job.summary?.stages?.[0]?.counters;
  if (!counters || !reference) return {};
  const keys = [...new Set([...Object.keys(counters), ...Object.keys(reference)])].filter((k) => !PLACEMENT_DEPENDENT.has(k)).sort();
  const differ = keys.filter((key) => counters[key] !== reference[key]);
  if (differ.length === 0) return {};
  const countersDiff = Object.fromEntries(differ.map((key) => [key, [counters[key] ?? null, reference[key] ?? null] as [number | null, number | null]]));
  progress(`!!! counters differ from fault-free: ${differ.map((key) => `${key} ${counters[key] ?? '–'} vs ${reference[key] ?? '–'}`).join(', ')}`);
  // Names only in the table, so repeats read alike; the figures are in the JSON.
  return { countersNote: `counters differ from fault-free: ${differ.join(', ')}`, countersDiff };
}

const sum = (job: JobRun, pick: (s: NonNullable<NonNullable<JobRun['summary']>['stages']>[number]) => number): number | null =>
  job.summary?.stages ? job.summary.stages.reduce((total, s) => total + pick(s), 0) : null;

export function toScenarioRun(scenario: Scenario, repeat: number, result: ScenarioResult, check: ReturnType<typeof checkOutput>): ScenarioRun {
  const { job, fault, reRegistrations } = result;
  return {
    scenario: scenario.id, label: scenario.label, repeat, ok: job.ok,
    wallSeconds: job.ok ? job.wallSeconds : null,
    engineSeconds: job.ok && job.summary?.elapsedMs !== undefined ? job.summary.elapsedMs / 1000 : null,
    mapTasks: sum(job, (s) => s.mapTasks),
    mapAttempts: sum(job, (s) => s.mapAttempts),
    reduceAttempts: sum(job, (s) => s.reduceAttempts),
    backupAttempts: sum(job, (s) => s.backupAttempts),
    failedAttempts: sum(job, (s) => s.failedAttempts),
    ...check, fault, reRegistrations, error: job.error,
    detail: { jobId: job.jobId, speculation: scenario.speculation, polls: job.polls, stages: job.summary?.stages, processes: job.summary?.processes, ...(job.ok ? {} : { stderrTail: job.stderrTail }) },
  };
}
