// Every attempt the master handed out, with its outcome, error and log: the one record per job that
// `mr logs`, `mr status`, the status page and the metrics all count attempts from.
import type { Assignment } from '../core/scheduler-records.ts';
import type { AttemptLog } from '../wires/messages.ts';

/** How an attempt ended: its report said (succeeded, failed, rejected), or the master saw it go (lost, cancelled). */
export type AttemptOutcome = 'succeeded' | 'failed' | 'rejected' | 'lost' | 'cancelled';

export function taskName(stage: number, kind: string, index: number): string {
  return `s${stage}.${kind}-${index}`;
}

/** "s2.reduce-0" → { stage: 2, kind: 'reduce', index: 0 }; undefined for any other name. */
export function parseTaskName(task: string): { stage: number; kind: 'map' | 'reduce'; index: number } | undefined {
  const match = /^s(\d+)\.(map|reduce)-(\d+)$/.exec(task);
  return match ? { stage: Number(match[1]), kind: match[2] as 'map' | 'reduce', index: Number(match[3]) } : undefined;
}

/** Whether the attempt is of the task named ("map-3" in any stage, "s2.reduce-0"); every attempt is for ''. */
export function isOfTask(attempt: AttemptLog, task: string): boolean {
  return !task || attempt.task === task || attempt.task.endsWith(`.${task}`);
}

export class AttemptHistory {
  private readonly byJob = new Map<string, Map<string, AttemptLog>>();
  private readonly jobIds = new Map<string, string>();
  private readonly running = new Set<string>(); // attempts with no outcome yet

  started(a: Assignment, workerId: string, backup: boolean, nowMs: number): void {
    let attempts = this.byJob.get(a.jobId);
    if (!attempts) this.byJob.set(a.jobId, (attempts = new Map()));
    attempts.set(a.attemptId, {
      attemptId: a.attemptId, task: taskName(a.stage, a.kind, a.index), workerId, state: 'running',
      error: '', log: '', startedMs: nowMs, endedMs: 0, backup,
    });
    this.jobIds.set(a.attemptId, a.jobId);
    this.running.add(a.attemptId);
  }

  /**
   * The attempt's entry, ended with this outcome; undefined when it was unknown or had ended already.
   * An outcome is given once: a report that comes after the master saw the attempt go (lost with its
   * worker, cancelled with its job) changes no count, though what the attempt printed is kept.
   */
  finished(attemptId: string, state: AttemptOutcome, error: string, log: string, endedMs: number): Readonly<AttemptLog> | undefined {
    const entry = this.entryOf(attemptId);
    if (!entry) return undefined;
    if (entry.state !== 'running') {
      if (!entry.log && log) entry.log = log;
      return undefined;
    }
    Object.assign(entry, { state, error, log, endedMs: Math.max(endedMs, entry.startedMs) });
    this.running.delete(attemptId);
    return entry;
  }

  entry(attemptId: string): Readonly<AttemptLog> | undefined {
    return this.entryOf(attemptId);
  }

  jobOf(attemptId: string): string | undefined {
    return this.jobIds.get(attemptId);
  }

  /** The attempts that have no outcome yet, of every job. */
  runningAttempts(): string[] {
    return [...this.running];
  }

  /** The job's attempts in the order they started; `task` filters by name suffix ("map-3", "s2.reduce-0"). */
  logs(jobId: string, task = ''): AttemptLog[] {
    return [...(this.byJob.get(jobId)?.values() ?? [])].filter((a) => isOfTask(a, task)).map((a) => ({ ...a }));
  }

  private entryOf(attemptId: string): AttemptLog | undefined {
    const jobId = this.jobIds.get(attemptId);
    return jobId === undefined ? undefined : this.byJob.get(jobId)?.get(attemptId);
  }
}
