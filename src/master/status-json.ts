// The JSON of a job's status, as `mr status --json` prints it and the status page's /api/jobs serves it.
import { sumCounts } from '../wires/chaos/chaos-counts.ts';
import type { ChaosCounts, JobStatus } from '../wires/messages.ts';

/** What the chaos layer did, summed over the processes that report it (daemons under --chaos), if any do. */
export function chaosOf(status: JobStatus): (ChaosCounts & { processes: number }) | undefined {
  const reporting = (status.processes ?? []).filter((p) => p.chaos);
  return reporting.length ? { ...sumCounts(reporting.map((p) => p.chaos)), processes: reporting.length } : undefined;
}

/** The contract's status fields of a job, plus the details. */
export function statusJson(status: JobStatus): Record<string, unknown> {
  const stage = status.stages[status.stage - 1];
  const chaos = chaosOf(status);
  return {
    id: status.jobId, state: status.state, stage: status.stage, phase: status.phase,
    mapDone: stage?.mapDone ?? 0, mapTotal: stage?.mapTotal ?? 0, reduceDone: stage?.reduceDone ?? 0, reduceTotal: stage?.reduceTotal ?? 0,
    outputDir: status.outputDir, stageCount: status.stageCount, elapsedMs: status.elapsedMs,
    ...(status.error ? { error: status.error } : {}),
    stages: status.stages,
    ...(chaos ? { chaos } : {}),
  };
}
