// The JSON of a job's status, as `mr status --json` prints it and the status page's /api/jobs serves it.
import type { JobStatus } from '../transport/messages.ts';

/** The contract's status fields of a job, plus the details. */
export function statusJson(status: JobStatus): Record<string, unknown> {
  const stage = status.stages[status.stage - 1];
  return {
    id: status.jobId, state: status.state, stage: status.stage, phase: status.phase,
    mapDone: stage?.mapDone ?? 0, mapTotal: stage?.mapTotal ?? 0, reduceDone: stage?.reduceDone ?? 0, reduceTotal: stage?.reduceTotal ?? 0,
    outputDir: status.outputDir, stageCount: status.stageCount, elapsedMs: status.elapsedMs,
    ...(status.error ? { error: status.error } : {}),
    stages: status.stages,
  };
}
