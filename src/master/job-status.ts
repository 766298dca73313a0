// Builds the JobStatus message (what `mr status` and `mr run` show) from the scheduler's records.
import { Scheduler, type JobRecord } from '../core/scheduler.ts';
import { phaseOf, stageCounters, type TaskRecord } from '../core/task-table.ts';
import type * as M from '../transport/messages.ts';

export function jobStatus(
  job: JobRecord, specs: M.JobSpec[], files: string[], processes: M.ProcessStats[], workers: M.WorkerLoad[], nowMs: number,
): M.JobStatus {
  const current = job.stages[job.stages.length - 1];
  const phase = job.state === 'succeeded' ? 'done' : current && !job.awaitingStage ? phaseOf(current) : 'map';
  const stages = job.stages.map((stage): M.StageStatus => {
    const end = stage.reduceDoneMs ?? job.finishedMs ?? nowMs;
    return {
      ...Scheduler.progress(stage),
      elapsedMs: end - stage.startedMs,
      counters: stageCounters(stage),
      mapPhaseMs: (stage.mapDoneMs ?? end) - stage.startedMs,
      reducePhaseMs: stage.mapDoneMs === undefined ? 0 : end - stage.mapDoneMs,
      failedAttempts: stage.failedAttempts,
      mapAttempts: sumAttempts(stage.maps),
      reduceAttempts: sumAttempts(stage.reduces),
      backupAttempts: stage.backupAttempts,
      mapRunning: countRunning(stage.maps),
      reduceRunning: countRunning(stage.reduces),
    };
  });
  return {
    jobId: job.id,
    state: job.state,
    stage: Math.max(1, job.stages.length),
    phase,
    stages,
    error: job.error ?? '',
    files,
    outputDir: specs[0]?.outputDir ?? '',
    processes,
    elapsedMs: (job.finishedMs ?? nowMs) - job.submittedMs,
    stageCount: job.stageCount,
    workers,
  };
}

function sumAttempts(tasks: readonly TaskRecord[]): number {
  return tasks.reduce((sum, task) => sum + task.attemptsStarted, 0);
}

function countRunning(tasks: readonly TaskRecord[]): number {
  return tasks.reduce((sum, task) => sum + task.running.size, 0);
}
