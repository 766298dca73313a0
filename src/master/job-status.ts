// Builds the JobStatus message (what `mr status` and `mr run` show) from the scheduler's records;
// attempt figures (per stage and per worker) come from the job's attempt history, as `mr logs` does.
import { JobBook } from '../core/job-book.ts';
import type { JobRecord } from '../core/scheduler-records.ts';
import { stageProgress, type StageProgress } from '../core/progress.ts';
import { findStragglers, type TaskFigures } from '../core/stragglers.ts';
import { phaseOf, stageCounters, type StageRecord, type TaskRecord } from '../core/task-table.ts';
import type * as M from '../wires/messages.ts';
import { countAttempts } from './attempt-outcomes.ts';

/** A worker as the master knows it; its attempt figures are the job's own (see countAttempts). */
export type WorkerBase = Omit<M.WorkerLoad, 'running' | 'succeeded' | 'failed'>;

export function jobStatus(
  job: JobRecord, specs: M.JobSpec[], files: string[], processes: M.ProcessStats[], workers: WorkerBase[], nowMs: number,
  attempts: readonly M.AttemptLog[],
  progressOf: (stage: StageRecord) => StageProgress = (stage) => stageProgress(stage, () => undefined),
): M.JobStatus {
  const counts = countAttempts(attempts);
  const current = job.stages[job.stages.length - 1];
  const phase = job.state === 'succeeded' ? 'done' : current && !job.awaitingStage ? phaseOf(current) : 'map';
  const stages = job.stages.map((stage): M.StageStatus => {
    const end = stage.reduceDoneMs ?? job.finishedMs ?? nowMs;
    const reduces = reduceFigures(stage, job.finishedMs ?? nowMs);
    const { map, reduce, ...figures } = progressOf(stage);
    return {
      ...JobBook.progress(stage),
      elapsedMs: end - stage.startedMs,
      counters: stageCounters(stage),
      mapPhaseMs: (stage.mapDoneMs ?? end) - stage.startedMs,
      reducePhaseMs: stage.mapDoneMs === undefined ? 0 : end - stage.mapDoneMs,
      ...counts.stage(stage.stage),
      mapRunning: countRunning(stage.maps),
      reduceRunning: countRunning(stage.reduces),
      reduces,
      stragglers: [
        ...findStragglers('reduce', reduces.map((r): TaskFigures => ({
          index: r.index, state: r.state as TaskFigures['state'], elapsedMs: r.elapsedMs,
          ...(r.inputKnown ? { inputRecords: r.inputRecords, inputBytes: r.inputBytes } : {}),
        }))),
        ...findStragglers('map', stage.maps.map((task) => taskFigures(task, job.finishedMs ?? nowMs))),
      ],
      progress: { map, reduce },
      ...figures,
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
    workers: workers.map((w) => ({ ...w, ...counts.worker(w.workerId) })),
  };
}

function countRunning(tasks: readonly TaskRecord[]): number {
  return tasks.reduce((sum, task) => sum + task.running.size, 0);
}

/** Per reducer: its input (from the committed map outputs' partition figures), state and time. */
function reduceFigures(stage: StageRecord, nowMs: number): M.ReduceTaskStatus[] {
  const inputKnown = stage.maps.every((map) => map.state === 'done');
  const recordsKnown = stage.maps.every((map) => map.state !== 'done' || map.partitionRecords?.length === stage.reduces.length);
  const records = new Array<number>(stage.reduces.length).fill(0);
  const bytes = new Array<number>(stage.reduces.length).fill(0);
  for (const map of stage.maps) {
    if (map.state !== 'done') continue;
    addInto(records, map.partitionRecords);
    addInto(bytes, map.partitionBytes);
  }
  return stage.reduces.map((task, r) => {
    const { state, elapsedMs } = taskFigures(task, nowMs);
    return { index: r, state, inputKnown: inputKnown && recordsKnown, inputRecords: records[r], inputBytes: bytes[r], elapsedMs, attempts: task.attemptsStarted };
  });
}

function addInto(sums: number[], values: readonly number[] = []): void {
  for (let r = 0; r < sums.length && r < values.length; r++) sums[r] += values[r];
}

/** A task's state and time: its committed attempt's, or how long its oldest running attempt has run. */
function taskFigures(task: TaskRecord, nowMs: number): TaskFigures {
  let elapsedMs = 0;
  if (task.state === 'done') elapsedMs = task.durationMs ?? 0;
  else for (const attempt of task.running.values()) elapsedMs = Math.max(elapsedMs, nowMs - attempt.startedMs);
  return { index: task.index, state: task.state, elapsedMs };
}
