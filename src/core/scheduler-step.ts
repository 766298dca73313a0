// One result shape for every event the scheduler takes (etcd raft's Ready): the tasks it handed
// out, the attempts a worker must stop, and the records for the master to act on.
import type { Assignment, SchedulerEvent } from './scheduler-records.ts';

/** What one event did, for the master to carry out in one place. */
export interface Step {
  readonly assignments: readonly Assignment[]; // attempts started: each is recorded, and its task goes to its worker
  readonly cancels: readonly string[];         // attempts a worker runs that the scheduler let go: its heartbeat's reply stops them
  readonly events: readonly SchedulerEvent[];  // jobs and stages that ended, attempts the scheduler ended or moved
}

export function emptyStep(): Step {
  return { assignments: [], cancels: [], events: [] };
}

/** A step of these parts, the others empty. */
export function stepOf(parts: Partial<Step>): Step {
  return { ...emptyStep(), ...parts };
}

/** One step doing what the given ones do, in their order. */
export function merge(...steps: readonly Step[]): Step {
  return {
    assignments: steps.flatMap((step) => step.assignments),
    cancels: steps.flatMap((step) => step.cancels),
    events: steps.flatMap((step) => step.events),
  };
}

export function isEmpty(step: Step): boolean {
  return step.assignments.length === 0 && step.cancels.length === 0 && step.events.length === 0;
}
