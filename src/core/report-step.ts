// Pure: what a worker's report of an attempt does to the scheduler, as one result (whether it
// was accepted, how the attempt ended, the commit to journal, and the scheduler's step to carry out).
import type { Counters } from './counters.ts';
import type { Scheduler } from './scheduler.ts';
import { emptyStep, type Step } from './scheduler-step.ts';
import type { AttemptRecord } from './task-table.ts';

/** What a report says (an AttemptReport of the contract fits). */
export interface ReportFacts {
  attemptId: string;
  ok: boolean;
  error: string;
  outputId: string;
  counters?: Counters;
  partitionBytes?: readonly number[];
  partitionRecords?: readonly number[];
  lostMapTasks?: readonly number[];
  ownDeath?: boolean;
}

/** How a reported attempt ended: lost is a fetch failure the scheduler did not count as the task's. */
export type ReportedOutcome = 'succeeded' | 'failed' | 'rejected' | 'lost';

export interface ReportStep extends Step {
  accepted: boolean;
  outcome: ReportedOutcome;
  error: string;
  /** The attempt whose output this report committed: the master journals it (absent for a commit made before a restart). */
  committed?: Readonly<AttemptRecord>;
}

const LATE = 'late or duplicate: another attempt committed, or the job ended';

/** Takes the report into the scheduler; the master journals, records and carries out what it returns. */
export function takeReport(scheduler: Scheduler, report: ReportFacts, nowMs: number): ReportStep {
  if (report.ok && committedBeforeRestart(scheduler, report)) return step(true, 'succeeded', report, emptyStep());
  if (report.ok) {
    const attempt = scheduler.attempt(report.attemptId); // gone once succeed has taken it
    const result = scheduler.succeed(report.attemptId, report.outputId, report.counters ?? {}, nowMs, report.partitionBytes ?? [], report.partitionRecords ?? []);
    const committed = result.accepted ? attempt : undefined;
    return { ...step(result.accepted, result.accepted ? 'succeeded' : 'rejected', report, result), ...(committed ? { committed } : {}) };
  }
  if (report.lostMapTasks?.length) {
    // The map outputs went with their worker: the reduce is not to blame unless the scheduler says so.
    const attempt = scheduler.attempt(report.attemptId);
    const failuresBefore = attempt ? scheduler.taskOf(attempt)?.failures ?? 0 : 0;
    const taken = scheduler.fetchFailed(report.attemptId, report.lostMapTasks, report.error, nowMs);
    const charged = (attempt ? scheduler.taskOf(attempt)?.failures ?? 0 : 0) !== failuresBefore;
    return step(false, charged ? 'failed' : 'lost', report, taken);
  }
  return step(false, 'failed', report, scheduler.fail(report.attemptId, report.error, nowMs, report.ownDeath));
}

/**
 * A master restarted from its journal does not know the attempts of before: a successful report
 * of one whose commit was journaled just before the crash (its reply lost with the master) is that
 * commit's, not a late duplicate, and its worker must keep the output.
 */
function committedBeforeRestart(scheduler: Scheduler, report: ReportFacts): boolean {
  return !scheduler.attempt(report.attemptId) && !!report.outputId && scheduler.isCommittedOutput(report.outputId);
}

function step(accepted: boolean, outcome: ReportedOutcome, report: ReportFacts, taken: Step): ReportStep {
  const { assignments, cancels, events } = taken;
  return { accepted, outcome, error: report.error || (accepted || !report.ok ? '' : LATE), assignments, cancels, events };
}
