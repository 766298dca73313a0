// What a processor does at the barrier (stage-barrier.ts), from the calls it makes: once a reply
// says its map attempt was accepted, it counts the map at its stage; once a reply hands it a
// reduce task, it waits for the stage's count to reach the task's number of map outputs.
import type { AttemptReport, AttemptReportReply, AttemptReports, AttemptReportsReply, MasterMethod } from '../../wires/messages.ts';
import { tasksHandedOut } from './processor-work.ts';
import { arrive, awaitArrivals, countedMaps } from './stage-barrier.ts';
import type { FabricPort } from './switch-fabric.ts';

/** Longer than any processor takes to count an accepted map; past it a reducer goes on (the master's rule holds) and is counted late. */
export const BARRIER_WAIT_MS = 10_000;

interface MapRun {
  jobId: string;
  stage: number;
  taskIndex: number;
}

export class StageSync {
  private readonly maps = new Map<string, MapRun>();   // attempt id -> its map task, until reported
  private readonly charge: (bytes: number) => void;

  constructor(private readonly table: Int32Array, private readonly port: FabricPort, private readonly waitMs = BARRIER_WAIT_MS) {
    this.charge = (bytes) => port.accessBoard(bytes);
  }

  /** After the call's reply is in: the maps it accepted are counted first, then the reduces it hands out wait. */
  async replied(method: MasterMethod, request: unknown, reply: unknown): Promise<void> {
    if (method === 'reportAttempt') {
      this.reported(request as AttemptReport, (reply as AttemptReportReply).accepted);
    } else if (method === 'reportAttempts') {
      const { reports } = request as AttemptReports;
      const { accepted } = reply as AttemptReportsReply;
      reports.forEach((report, i) => this.reported(report, accepted[i] === true));
    }
    for (const task of tasksHandedOut(method, reply)) {
      if (task.kind === 'map') {
        this.maps.set(task.attemptId, { jobId: task.jobId, stage: task.stage, taskIndex: task.taskIndex });
        continue;
      }
      const needed = countedMaps(task.mapOutputs.map((output) => output.mapTask));
      if (!(await awaitArrivals(this.table, task.jobId, task.stage, needed, this.waitMs, this.charge))) this.port.late();
    }
  }

  private reported(report: AttemptReport, accepted: boolean): void {
    const run = this.maps.get(report.attemptId);
    if (!run) return;
    this.maps.delete(report.attemptId);
    if (report.ok && accepted && arrive(this.table, run.jobId, run.stage, run.taskIndex, this.charge)) this.port.arrived();
  }
}
