// Pure: what a worker asking for work is offered, which waiting worker is offered work first, and
// whether a report's reply carries the reporting slot's next task.
import type { Assignment } from './scheduler-records.ts';
import type { Scheduler } from './scheduler.ts';
import type { Step } from './scheduler-step.ts';

/**
 * A task or a batch of them, in the order to run them (with the scheduler's step that started them,
 * for the master to carry out), an order to exit, a prompt to ask again at once, or nothing yet (the worker waits).
 */
export type Offer = { tasks: readonly Assignment[]; step: Step } | { shutdown: true } | { retryAfterMs: 0 } | undefined;

/** Assigns the worker a task, or up to maxTasks, if there is one for it now (the scheduler records the attempts). */
export function offerFor(scheduler: Scheduler, workerId: string, shuttingDown: boolean, nowMs: number, maxTasks = 1): Offer {
  if (shuttingDown) return { shutdown: true };
  // A worker given up for dead asks again at once; its next heartbeat tells it to re-register.
  if (!scheduler.workers.get(workerId)?.alive) return { retryAfterMs: 0 };
  const step = scheduler.assign(workerId, nowMs, maxTasks);
  return step.assignments.length > 0 ? { tasks: step.assignments, step } : undefined;
}

/**
 * The order in which waiting workers are offered work: the least loaded first, so that with
 * several slots per worker work spreads over the workers before it stacks on one. Stable: among
 * equals, the one that has waited longest.
 */
export function wakeOrder<W extends { workerId: string }>(waiting: readonly W[], runningOn: (workerId: string) => number): W[] {
  return [...waiting].sort((a, b) => runningOn(a.workerId) - runningOn(b.workerId));
}

/**
 * A report's reply. Piggybacking: the report frees its slot, so when the worker asks, the slot's
 * next offer rides on the reply, which halves the calls per task. nextOffer is asked only then,
 * and after the workers already waiting were served (they keep their turn); nothing to offer,
 * nothing carried.
 */
export function reportReply<T>(accepted: boolean, wantTask: boolean | undefined, nextOffer: () => T | undefined): { accepted: boolean; next: T | null } {
  return { accepted, next: (wantTask ? nextOffer() : undefined) ?? null };
}
