// Every attempt the master handed out, with its outcome, error and log: what `mr logs` shows.
import type { Assignment } from '../core/scheduler.ts';
import type { AttemptLog } from '../transport/messages.ts';

export function taskName(stage: number, kind: string, index: number): string {
  return `s${stage}.${kind}-${index}`;
}

/** Whether the attempt is of the task named ("map-3" in any stage, "s2.reduce-0"); every attempt is for ''. */
export function isOfTask(attempt: AttemptLog, task: string): boolean {
  return !task || attempt.task === task || attempt.task.endsWith(`.${task}`);
}

export class AttemptHistory {
  private readonly byJob = new Map<string, Map<string, AttemptLog>>();
  private readonly jobOf = new Map<string, string>();
  private readonly outcomes = new Map<string, { succeeded: number; failed: number }>();

  started(a: Assignment, workerId: string, backup: boolean, nowMs: number): void {
    let attempts = this.byJob.get(a.jobId);
    if (!attempts) this.byJob.set(a.jobId, (attempts = new Map()));
    attempts.set(a.attemptId, {
      attemptId: a.attemptId, task: taskName(a.stage, a.kind, a.index), workerId, state: 'running',
      error: '', log: '', startedMs: nowMs, endedMs: 0, backup,
    });
    this.jobOf.set(a.attemptId, a.jobId);
  }

  /** The attempt's entry, ended now; undefined when it was unknown or had ended already. */
  finished(attemptId: string, state: 'succeeded' | 'failed' | 'rejected', error: string, log: string, nowMs: number): Readonly<AttemptLog> | undefined {
    const jobId = this.jobOf.get(attemptId);
    const entry = jobId === undefined ? undefined : this.byJob.get(jobId)?.get(attemptId);
    if (!entry || entry.state !== 'running') return undefined;
    Object.assign(entry, { state, error, log, endedMs: nowMs });
    const counts = this.outcomes.get(entry.workerId) ?? { succeeded: 0, failed: 0 };
    if (state === 'succeeded') counts.succeeded++;
    else if (state === 'failed') counts.failed++;
    this.outcomes.set(entry.workerId, counts);
    return entry;
  }

  entry(attemptId: string): Readonly<AttemptLog> | undefined {
    const jobId = this.jobOf.get(attemptId);
    return jobId === undefined ? undefined : this.byJob.get(jobId)?.get(attemptId);
  }

  /** The job's attempts in the order they started; `task` filters by name suffix ("map-3", "s2.reduce-0"). */
  logs(jobId: string, task: string, stillRunning: (attemptId: string) => boolean): AttemptLog[] {
    const attempts = [...(this.byJob.get(jobId)?.values() ?? [])];
    return attempts
      .filter((a) => isOfTask(a, task))
      .map((a) => (a.state === 'running' && !stillRunning(a.attemptId) ? { ...a, state: 'lost' } : a));
  }

  outcomesOf(workerId: string): { succeeded: number; failed: number } {
    return this.outcomes.get(workerId) ?? { succeeded: 0, failed: 0 };
  }
}
