// What the master records when an attempt starts or ends, or a job ends: each attempt's outcome
// once, in the one history that mr logs, mr status, mr ps, the page and the metrics all read.
import type { Assignment } from '../core/scheduler-records.ts';
import { droppedOutcome } from './attempt-outcomes.ts';
import { parseTaskName, type AttemptOutcome } from './attempt-history.ts';
import type { MasterState } from './master-state.ts';

/** An attempt the scheduler started: mr logs and mr ps show it running on its worker's node. */
export function attemptStarted(state: MasterState, assignment: Assignment, nowMs: number): void {
  const { workerId } = assignment;
  state.history.started(assignment, workerId, assignment.backup, nowMs);
  state.processTable.started(assignment, workerId, state.nodeTable.nodeOf(workerId) ?? 0, nowMs);
}

/** An attempt moved off a drained node, to run elsewhere: cancelled, not failed. */
export function attemptMoved(state: MasterState, attemptId: string, workerId: string): void {
  state.processTable.ended(attemptId, 'moved', state.now());
  endAttempt(state, attemptId, 'cancelled', `moved: node ${state.nodeTable.nodeOf(workerId)} was drained`);
}

/** Records the attempt's outcome (once), for mr logs, mr status, the page and the metrics alike. */
export function endAttempt(
  state: MasterState, attemptId: string, outcome: AttemptOutcome, error: string,
  endedMs = state.now(), log = '', counters: Record<string, number> = {},
): void {
  const ended = state.history.finished(attemptId, outcome, error, log, endedMs);
  if (ended) state.options.onAttemptEnd?.(ended, counters);
}

/** An attempt the master itself failed (no report will say why): mr logs and mr ps show it. */
export function attemptFailed(state: MasterState, attemptId: string, error: string): void {
  state.options.log.warn('attempt failed', { attemptId, error });
  state.processTable.ended(attemptId, 'failed', state.now());
  endAttempt(state, attemptId, 'failed', error);
}

/**
 * Gives an outcome to every attempt the scheduler let go without a report (lost with its worker,
 * cancelled with its job or by another copy's commit), ended when that happened: no attempt of a
 * finished job stays running, and every count of attempts reads the same record. An attempt whose
 * report is being taken is not among them, though the scheduler is done with it.
 */
export function settleAttempts(state: MasterState): void {
  const { scheduler, history } = state;
  const now = state.now();
  // Only those the scheduler let go since the last call: not every running attempt after each report.
  for (const attemptId of scheduler.takeLetGo()) {
    if (scheduler.isRunning(attemptId) || state.reporting.has(attemptId)) continue;
    const attempt = history.entry(attemptId);
    if (!attempt || attempt.state !== 'running') continue;
    const jobId = history.jobOf(attemptId) ?? '';
    const job = scheduler.jobs.get(jobId);
    const name = parseTaskName(attempt.task);
    if (!job || !name) continue;
    const task = scheduler.taskOf({ jobId, ...name });
    const outcome = droppedOutcome({
      jobState: job.state, jobFinishedMs: job.finishedMs, workerAlive: !!scheduler.workers.get(attempt.workerId)?.alive, taskDone: task?.state === 'done',
    }, now);
    endAttempt(state, attemptId, outcome.state, outcome.error, outcome.endedMs);
  }
}

/** The job ended (succeeded, failed or killed): its attempts still running end with it. */
export function jobEnded(state: MasterState, jobId: string): void {
  settleAttempts(state);
  state.options.onJobEnd?.(jobId);
}
