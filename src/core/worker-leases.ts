// The workers and the attempts running on them: registration, heartbeats that renew leases and
// name the attempts to stop, progress, and the attempts let go with their worker (kept a while).
import type { SchedulerOptions, WorkerRecord } from './scheduler-records.ts';
import { stepOf, type Step } from './scheduler-step.ts';
import type { AttemptRecord } from './task-table.ts';
import { noteProgress } from './task-timeout.ts';
import { AttemptTable } from './attempt-table.ts';

/** Dropped attempts remembered for a late diagnosis of their worker's death. */
const MAX_DROPPED = 10_000;

export class WorkerLeases {
  readonly workers = new Map<string, WorkerRecord>();
  /** The attempts running now, by id. */
  readonly attempts = new AttemptTable();
  /**
   * Attempts dropped with their worker (not failures), kept a while: a worker found dead later for
   * a reason that is the attempt's (it ran out of memory, it stalled) still fails the attempt.
   */
  readonly dropped = new Map<string, AttemptRecord>();
  /** Of the dropped attempts, those whose loss counted as a failure already (see Scheduler.loseWorker). */
  readonly charged = new Set<string>();
  /** Attempts moved off a node (it died or was drained): restarted elsewhere, not failures. */
  migrations = 0;

  constructor(private readonly options: Pick<SchedulerOptions, 'leaseMs'>) {}

  register(workerId: string, nowMs: number, node?: number): void {
    const draining = this.workers.get(workerId)?.draining;
    this.workers.set(workerId, { id: workerId, lastSeenMs: nowMs, alive: true, ...(node === undefined ? {} : { node }), ...(draining ? { draining } : {}) });
    this.live = undefined;
  }

  /** The worker is gone (silent, or its process died). */
  markLost(workerId: string): void {
    const worker = this.workers.get(workerId);
    if (worker) worker.alive = false;
    this.live = undefined;
  }

  /**
   * The live workers' ids, made when first asked after a worker registered or was lost: a
   * decision that needs them (rarely: a task that failed on the asking worker) costs O(1), not
   * O(workers), with thousands of workers asking.
   */
  liveWorkers(): readonly string[] {
    return (this.live ??= [...this.workers.values()].filter((w) => w.alive).map((w) => w.id));
  }

  private live?: string[];

  /**
   * Renews the worker and its attempts' leases. It stops the attempts it runs that are not its
   * own any more; a worker not known alive stops them all and registers again.
   */
  heartbeat(workerId: string, runningAttemptIds: readonly string[], nowMs: number): Step {
    const worker = this.workers.get(workerId);
    if (!worker || !worker.alive) return stepOf({ cancels: [...runningAttemptIds], events: [{ type: 'worker-unknown', workerId }] });
    worker.lastSeenMs = nowMs;
    const cancels: string[] = [];
    for (const id of runningAttemptIds) {
      const attempt = this.attempts.get(id);
      if (attempt && attempt.workerId === workerId) attempt.leaseUntilMs = nowMs + this.options.leaseMs;
      else cancels.push(id);
    }
    return stepOf({ cancels });
  }

  /** What a heartbeat says of a running attempt's progress (see task-timeout.ts). */
  noteProgress(attemptId: string, mark: number, paused: boolean, nowMs: number): void {
    const attempt = this.attempts.get(attemptId);
    if (attempt) noteProgress(attempt, mark, paused, nowMs);
  }

  /** Takes the worker's attempts off it (kept as dropped, counted as moved); their tasks are the caller's. */
  takeAttemptsOf(workerId: string): AttemptRecord[] {
    const taken = [...this.attempts.values()].filter((attempt) => attempt.workerId === workerId);
    for (const attempt of taken) {
      this.attempts.delete(attempt.id);
      this.keepDropped(attempt);
    }
    this.migrations += taken.length;
    return taken;
  }

  private keepDropped(attempt: AttemptRecord): void {
    this.dropped.set(attempt.id, attempt);
    if (this.dropped.size > MAX_DROPPED) {
      const oldest = this.dropped.keys().next().value as string;
      this.dropped.delete(oldest);
      this.charged.delete(oldest);
    }
  }

  /** The silence of pausedMs is no one's (see Scheduler.creditPause). */
  creditPause(pausedMs: number): void {
    for (const worker of this.workers.values()) if (worker.alive) worker.lastSeenMs += pausedMs;
    for (const attempt of this.attempts.values()) attempt.leaseUntilMs += pausedMs;
  }

  /** The ids of the attempts that run on the worker now. */
  attemptsOn(workerId: string): string[] {
    return [...this.attempts.values()].filter((attempt) => attempt.workerId === workerId).map((attempt) => attempt.id);
  }

  /** How many attempts run on the worker now. */
  runningOn(workerId: string): number {
    return this.attempts.countOn(workerId);
  }
}
