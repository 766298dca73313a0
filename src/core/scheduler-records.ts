// The scheduler's records of jobs and workers, the options it runs with, the tasks it hands out
// (Assignment) and the records it asks the master to act on (SchedulerEvent).
import type { SpeculationOptions } from './speculation.ts';
import type { MapInput } from './splits.ts';
import type { MapOutputRef, StageRecord, TaskKind } from './task-table.ts';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'killed';

export interface SchedulerOptions {
  leaseMs: number;              // an attempt not renewed by a heartbeat for this long is presumed lost
  workerTimeoutMs: number;      // a worker silent for this long is presumed dead
  speculation?: SpeculationOptions;
  epoch?: number;               // how many times the master has started; keeps attempt ids unique across restarts
  nodes?: number;               // a simulated machine of this many nodes: tasks are placed statically (placement.ts)
  taskTimeoutMs?: number;       // an attempt whose progress does not move this long fails (0 or absent: never)
}

export interface JobRecord {
  id: string;
  state: JobState;
  stageCount: number;
  maxAttempts: number;
  speculation: boolean;         // backup attempts for stragglers
  stages: StageRecord[];        // started stages, in order
  awaitingStage: boolean;       // between stages: the master is preparing the next one
  error?: string;
  submittedMs: number;
  finishedMs?: number;
}

export interface WorkerRecord {
  id: string;
  lastSeenMs: number;
  alive: boolean;
  node?: number;                 // its node on a simulated machine
  draining?: boolean;            // takes no new tasks (mr drain)
}

/** A task handed to a worker: the attempt the scheduler started for it. */
export interface Assignment {
  attemptId: string;
  jobId: string;
  stage: number;
  kind: TaskKind;
  index: number;
  workerId: string;             // the worker it was handed to
  backup: boolean;              // a speculative copy of a straggler
  splits?: MapInput;
  mapOutputs?: MapOutputRef[];  // reduce tasks: one per map task, in map order
}

/** Something the master must act on with I/O. */
export type SchedulerEvent =
  | { type: 'stage-reduced'; jobId: string; stage: number }   // every reduce committed: write _SUCCESS
  | { type: 'job-failed'; jobId: string; error: string }
  | { type: 'job-killed'; jobId: string }
  | { type: 'attempt-timed-out'; attemptId: string; error: string } // failed by the task timeout: record why
  | { type: 'attempt-lost'; attemptId: string; error: string }      // lost with its worker, counted as a failure: record why
  | { type: 'attempt-moved'; attemptId: string; workerId: string }  // dropped from a drained worker, to run elsewhere: no failure
  | { type: 'worker-unknown'; workerId: string }                    // not known alive (given up for dead): it must register again
  | { type: 'worker-lost'; workerId: string };                      // presumed dead just now: what it served is gone with it

export function isFinished(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'killed';
}
