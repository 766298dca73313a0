// The jobs as the scheduler keeps them: added, their stages started and completed in turn, tasks
// restored from the journal, and the lookups from an attempt or an output to its job and task.
import type { Counters } from './counters.ts';
import type { MapInput } from './splits.ts';
import { isFinished, type JobRecord } from './scheduler-records.ts';
import { countDone, newStage, phaseOf, setTaskState, type MapOutputRef, type StageRecord, type TaskKind, type TaskRecord } from './task-table.ts';

/** What names a task: an attempt, or any reference to one. */
export interface TaskRef {
  jobId: string;
  stage: number;
  kind: string;
  index: number;
}

export class JobBook {
  readonly jobs = new Map<string, JobRecord>();

  addJob(id: string, stageCount: number, maxAttempts: number, nowMs: number, speculation = true): JobRecord {
    const existing = this.jobs.get(id);
    if (existing) return existing;
    const job: JobRecord = { id, state: 'queued', stageCount, maxAttempts, speculation, stages: [], awaitingStage: true, submittedMs: nowMs };
    this.jobs.set(id, job);
    return job;
  }

  /** Starts the job's next stage over the given splits (computed by the master from the input files). */
  startStage(jobId: string, splits: MapInput[], reducers: number, nowMs: number): void {
    const job = this.mustGetJob(jobId);
    if (!job.awaitingStage || isFinished(job.state)) return;
    job.stages.push(newStage(job.stages.length + 1, splits, reducers, nowMs));
    job.awaitingStage = false;
    job.state = 'running';
  }

  /** After the master committed a stage (its _SUCCESS is written): the job goes on or is done. */
  completeStage(jobId: string, nowMs: number): void {
    const job = this.mustGetJob(jobId);
    if (isFinished(job.state)) return; // killed or failed while the stage was being committed
    if (job.stages.length >= job.stageCount) {
      job.state = 'succeeded';
      job.finishedMs = nowMs;
    } else {
      job.awaitingStage = true;
    }
  }

  /** Replays a commit from the journal: the task is done with this output, as before the restart. */
  restoreTaskDone(jobId: string, stageNumber: number, kind: TaskKind, index: number, output: MapOutputRef | undefined, counters: Counters, nowMs: number,
    partitionBytes?: readonly number[], partitionRecords?: readonly number[]): void {
    const { stage, task } = this.locate({ jobId, stage: stageNumber, kind, index });
    if (!stage || !task || task.state === 'done') return;
    setTaskState(stage, task, 'done');
    task.doneMs = nowMs;
    task.output = output;
    task.counters = counters;
    if (partitionBytes) task.partitionBytes = [...partitionBytes];
    if (partitionRecords) task.partitionRecords = [...partitionRecords];
    if (phaseOf(stage) !== 'map') stage.mapDoneMs ??= nowMs;
    if (phaseOf(stage) === 'commit') stage.reduceDoneMs ??= nowMs;
  }

  /**
   * Whether outputId is a map output some task committed. A master restarted from its journal
   * does not know the attempts of before; a report of one whose commit was journaled just before
   * the crash (its reply lost with the master) is that commit's, not a late duplicate.
   */
  isCommittedOutput(outputId: string): boolean {
    for (const job of this.jobs.values()) {
      for (const stage of job.stages) if (stage.maps.some((task) => task.state === 'done' && task.output?.outputId === outputId)) return true;
    }
    return false;
  }

  /** The task an attempt (or any reference to a task) is of, if its job and stage are known. */
  taskOf(ref: TaskRef): Readonly<TaskRecord> | undefined {
    return this.locate(ref).task;
  }

  /** The job, stage and task of an attempt (or any reference to a task), those that are known. */
  protected locate(ref: TaskRef): { job?: JobRecord; stage?: StageRecord; task?: TaskRecord } {
    const job = this.jobs.get(ref.jobId);
    const stage = job?.stages[ref.stage - 1];
    const task = stage ? (ref.kind === 'map' ? stage.maps : stage.reduces)[ref.index] : undefined;
    return { job, stage, task };
  }

  protected mustGetJob(jobId: string): JobRecord {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`unknown job ${jobId}`);
    return job;
  }

  /** Done/total counts of a stage, for status reports. */
  static progress(stage: StageRecord): { mapDone: number; mapTotal: number; reduceDone: number; reduceTotal: number } {
    return {
      mapDone: countDone(stage, 'map'), mapTotal: stage.maps.length,
      reduceDone: countDone(stage, 'reduce'), reduceTotal: stage.reduces.length,
    };
  }
}
