// What the master's answers follow on the simulated clock, besides their requests. An answer
// depends on what the master had learnt: a reduce task exists only once every map of its stage
// has reported, a later stage's map only once the stage before has. So an answer that hands out
// tasks follows the reports they depend on (the timeline takes the latest of them), and nothing
// else: not the latest message the master happened to have seen, which would tie the figures to
// the order in which the node threads' messages reached it. Pure: no clock, no I/O.
import type { MessageId } from './timeline.ts';

export interface TaskRef {
  jobId: string;
  stage: number;
  kind: string;
}

const ATTEMPT_ID = /^(.+)\.s(\d+)\.(map|reduce)-/;

export class MasterTimes {
  /** `<job>.s<stage>.<kind>` -> the report messages of its attempts. */
  private readonly reported = new Map<string, MessageId[]>();
  /** Every report message: the job's end is the last of them to arrive. */
  readonly reports: MessageId[] = [];

  /** A report message (id) of these attempts arrived. */
  report(attemptIds: readonly string[], id: MessageId): void {
    const keys = new Set<string>();
    for (const attemptId of attemptIds) {
      const match = ATTEMPT_ID.exec(attemptId);
      if (match) keys.add(`${match[1]}.s${match[2]}.${match[3]}`);
    }
    for (const key of keys) {
      const list = this.reported.get(key);
      if (list) list.push(id);
      else this.reported.set(key, [id]);
    }
    if (attemptIds.length > 0) this.reports.push(id);
  }

  /** The reports an answer that hands out these tasks follows. */
  after(tasks: readonly TaskRef[]): MessageId[] {
    const keys = new Set<string>();
    for (const task of tasks) {
      if (task.kind === 'reduce') keys.add(`${task.jobId}.s${task.stage}.map`);
      else if (task.stage > 1) keys.add(`${task.jobId}.s${task.stage - 1}.reduce`);
    }
    return [...keys].flatMap((key) => this.reported.get(key) ?? []);
  }
}
