// When the master's answers leave node 0, in simulated time. An answer depends on its request and
// on what the master had learnt: a reduce task exists only once every map of its stage has
// reported, a later stage's map only once the stage before has. So an answer leaves at the later
// of its request's time and the time of the last report it depends on. (Leaving at the latest time
// the master has seen instead would make the figures hang on the order in which the node threads'
// messages happened to reach it: a node's early request answered after another's late report
// would leave late.) Pure: no clock, no I/O.

export interface TaskRef {
  jobId: string;
  stage: number;
  kind: string;
}

const ATTEMPT_ID = /^(.+)\.s(\d+)\.(map|reduce)-/;

export class MasterTimes {
  /** `<job>.s<stage>.<kind>` -> the latest time at which an attempt of it reported. */
  private readonly reported = new Map<string, number>();
  /** The latest report of all: the job's end, in simulated time. */
  lastReportUs = 0;

  /** Reports of these attempts arrived at atUs. */
  report(attemptIds: readonly string[], atUs: number): void {
    for (const id of attemptIds) {
      const match = ATTEMPT_ID.exec(id);
      if (!match) continue;
      const key = `${match[1]}.s${match[2]}.${match[3]}`;
      this.reported.set(key, Math.max(this.reported.get(key) ?? 0, atUs));
    }
    if (attemptIds.length > 0) this.lastReportUs = Math.max(this.lastReportUs, atUs);
  }

  /** When an answer to a request of atUs that hands out these tasks leaves. */
  answerAt(atUs: number, tasks: readonly TaskRef[]): number {
    let at = atUs;
    for (const task of tasks) {
      const after = task.kind === 'reduce' ? `${task.jobId}.s${task.stage}.map` : task.stage > 1 ? `${task.jobId}.s${task.stage - 1}.reduce` : undefined;
      if (after !== undefined) at = Math.max(at, this.reported.get(after) ?? 0);
    }
    return at;
  }
}
