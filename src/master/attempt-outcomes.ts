// Pure: how an attempt the master stopped waiting for ends (no report will say), and the per-job
// figures (per stage, per worker) that mr status, the status page and mr run derive from the attempts.
import { isFinished, type JobState } from '../core/scheduler-records.ts';
import type { AttemptLog } from '../wires/messages.ts';
import { parseTaskName } from './attempt-history.ts';

/** What the scheduler says of an attempt it no longer runs and whose report has not come. */
export interface DroppedAttempt {
  jobState: JobState;
  jobFinishedMs?: number;
  workerAlive: boolean;           // false: the worker died, or stopped answering
  taskDone: boolean;              // another attempt of the task committed
}

export interface DroppedOutcome {
  state: 'lost' | 'cancelled';
  error: string;
  endedMs: number;
}

/** Its end: when the job ended (so a timeline ends with its job), else when the master saw it go. */
export function droppedOutcome(d: DroppedAttempt, nowMs: number): DroppedOutcome {
  if (isFinished(d.jobState)) {
    const how = d.jobState === 'killed' ? 'was killed' : d.jobState;
    return { state: 'cancelled', error: `the job ${how} while it ran`, endedMs: d.jobFinishedMs ?? nowMs };
  }
  if (!d.workerAlive) return { state: 'lost', error: 'its worker died or stopped answering', endedMs: nowMs };
  if (d.taskDone) return { state: 'cancelled', error: 'another attempt of the task committed first', endedMs: nowMs };
  return { state: 'lost', error: 'the master stopped waiting for it (no heartbeat renewed its lease)', endedMs: nowMs };
}

export interface StageAttempts {
  mapAttempts: number;
  reduceAttempts: number;
  failedAttempts: number;
  backupAttempts: number;
}

export interface WorkerAttempts {
  running: number;
  succeeded: number;
  failed: number;
}

export interface AttemptCounts {
  stage(stage: number): StageAttempts;
  worker(workerId: string): WorkerAttempts;
}

/** One job's attempts counted once, by stage and by worker: every view of the job shows these. */
export function countAttempts(attempts: readonly AttemptLog[]): AttemptCounts {
  const stages = new Map<number, StageAttempts>();
  const workers = new Map<string, WorkerAttempts>();
  for (const a of attempts) {
    const task = parseTaskName(a.task);
    if (!task) continue;
    const { stage } = task;
    let s = stages.get(stage);
    if (!s) stages.set(stage, (s = { mapAttempts: 0, reduceAttempts: 0, failedAttempts: 0, backupAttempts: 0 }));
    if (task.kind === 'map') s.mapAttempts++;
    else s.reduceAttempts++;
    if (a.backup) s.backupAttempts++;
    if (a.state === 'failed') s.failedAttempts++;
    let w = workers.get(a.workerId);
    if (!w) workers.set(a.workerId, (w = { running: 0, succeeded: 0, failed: 0 }));
    if (a.state === 'running') w.running++;
    else if (a.state === 'succeeded') w.succeeded++;
    else if (a.state === 'failed') w.failed++;
  }
  return {
    stage: (stage) => ({ ...(stages.get(stage) ?? { mapAttempts: 0, reduceAttempts: 0, failedAttempts: 0, backupAttempts: 0 }) }),
    worker: (workerId) => ({ ...(workers.get(workerId) ?? { running: 0, succeeded: 0, failed: 0 }) }),
  };
}
