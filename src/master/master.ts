// The master: takes jobs, hands tasks to workers (long poll), accepts attempts' results and
// commits stages. Every decision is the pure core's; this facade owns the one MasterState and
// passes it to the modules that do the I/O around those decisions.
import { traceStages, type JobTrace } from '../core/job-trace.ts';
import type { ResumeFigures } from './checkpoint-book.ts';
import type { ProcessRecord } from './process-table.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type * as M from '../wires/messages.ts';
import type { MasterService } from '../wires/transport.ts';
import * as cluster from './cluster-ops.ts';
import * as jobs from './job-intake.ts';
import { Journal, type JournalRecord, type JournalSink } from './journal.ts';
import { createMasterState, type MasterOptions, type MasterState } from './master-state.ts';
import { replay } from './recovery.ts';
import { finishStage, prepareStage, reclaimOutputs } from './stage-commit.ts';
import * as dispatch from './task-dispatch.ts';
import { wake } from './task-offers.ts';

export type { MasterOptions } from './master-state.ts';

/** How often the master expires leases and silent workers. */
const TICK_MS = 250;

export class Master implements MasterService {
  private readonly state: MasterState;
  private readonly ticker: NodeJS.Timeout;
  private lastTickMs: number;

  constructor(options: MasterOptions) {
    this.state = createMasterState(options);
    this.lastTickMs = this.state.now();
    this.ticker = setInterval(() => void this.tick(), TICK_MS);
    this.ticker.unref();
  }

  /** The scheduler's jobs and workers, read by the metrics' gauges (MetricsView). */
  get scheduler(): Scheduler {
    return this.state.scheduler;
  }

  /** Resumes from the journal, if there is one: committed work stays committed. */
  async recover(): Promise<void> {
    const path = this.state.options.journalPath;
    if (path) await this.recoverFrom(Journal.read(path), new Journal(path));
  }

  /** Resumes from these records, and journals in `journal` from now on (mr master --ha: both in etcd). */
  async recoverFrom(records: JournalRecord[], journal: JournalSink): Promise<void> {
    const { state } = this;
    const recovery = replay(records, state.scheduler, state, state.now());
    state.scheduler.setEpoch(recovery.epoch + 1);
    state.journal = journal;
    await state.journal.append({ t: 'epoch', epoch: recovery.epoch + 1 }, true);
    if (recovery.epoch > 0) state.options.log.info('resumed from the journal', { epoch: recovery.epoch + 1, jobs: state.scheduler.jobs.size });
    await reclaimOutputs(state);
    for (const { jobId, stage } of recovery.toCommit) await finishStage(state, jobId, stage);
    for (const { jobId, inputs } of recovery.toStart) await prepareStage(state, jobId, inputs ?? state.specs.get(jobId)![0].inputFiles);
    wake(state);
  }

  /**
   * Hands out no task until `restored` settles: ssi's restarted master reads the agreed process
   * table back first (restoreProcesses), so that no new process takes an old one's id.
   */
  holdTasksUntil(restored: Promise<unknown>): void {
    this.state.holdingTasks = true;
    void restored.catch(() => undefined).then(() => {
      this.state.holdingTasks = false;
      wake(this.state);
    });
  }

  /** The process table as the cluster agreed on it before this master started (ssi, from etcd): mr ps shows it, and new ids follow it. */
  restoreProcesses(records: Iterable<ProcessRecord>): void {
    this.state.processTable.restore(records);
  }

  // Jobs (job-intake.ts).
  submitJob(req: M.SubmitJobRequest): Promise<M.SubmitJobReply> { return jobs.submitJob(this.state, req); }
  getJobStatus(req: M.JobStatusRequest): Promise<M.JobStatus> { return jobs.getJobStatus(this.state, req); }
  listJobs(): Promise<M.ListJobsReply> { return jobs.listJobs(this.state); }
  getJobLogs(req: M.JobLogsRequest): Promise<M.JobLogsReply> { return jobs.getJobLogs(this.state, req); }
  killJob(req: M.KillJobRequest): Promise<M.KillJobReply> { return jobs.killJob(this.state, req); }

  hasJob(jobId: string): boolean {
    return this.state.scheduler.jobs.has(jobId);
  }

  /** Where a job's tasks ran and what they read and wrote, for a machine model to replay. */
  trace(jobId: string): JobTrace | undefined {
    const job = this.state.scheduler.jobs.get(jobId);
    return job && traceStages(job.stages);
  }

  // Workers and their attempts (task-dispatch.ts).
  registerWorker(req: M.RegisterWorkerRequest): Promise<M.RegisterWorkerReply> { return dispatch.registerWorker(this.state, req); }
  requestTask(req: M.TaskRequest): Promise<M.TaskReply> { return dispatch.requestTask(this.state, req); }
  reportAttempt(req: M.AttemptReport): Promise<M.AttemptReportReply> { return dispatch.reportAttempt(this.state, req); }
  reportAttempts(req: M.AttemptReports): Promise<M.AttemptReportsReply> { return dispatch.reportAttempts(this.state, req); }
  commitAttempt(req: M.CommitRequest): Promise<M.CommitReply> { return dispatch.commitAttempt(this.state, req); }
  heartbeat(req: M.HeartbeatRequest): Promise<M.HeartbeatReply> { return dispatch.heartbeat(this.state, req); }
  nodesBusy(nodes: readonly number[]): void { dispatch.nodesBusy(this.state, nodes); }

  // The cluster (cluster-ops.ts).
  listProcesses(req: M.ListProcessesRequest): Promise<M.ListProcessesReply> { return cluster.listProcesses(this.state, req); }
  killProcess(req: M.KillProcessRequest): Promise<M.KillProcessReply> { return cluster.killProcess(this.state, req); }
  drainNode(req: M.DrainNodeRequest): Promise<M.DrainNodeReply> { return cluster.drainNode(this.state, req); }
  resolveNodes(): Promise<M.ResolveNodesReply> { return cluster.resolveNodes(this.state); }

  workerProcessDied(pid: number, death?: { reason: string; attemptIds?: string[] }): Promise<void> {
    return cluster.workerProcessDied(this.state, pid, death);
  }

  workerLost(workerId: string, reason: string): Promise<void> {
    return cluster.workerLost(this.state, workerId, reason);
  }

  /** Map checkpoints heard of, and attempts resumed from one. */
  get resumes(): ResumeFigures {
    return { ...this.state.checkpoints.figures };
  }

  /** Attempts moved off nodes that died or were drained. */
  get migrations(): number {
    return this.state.scheduler.migrations;
  }

  /**
   * One beat of the clock (every TICK_MS on its own): expires leases and silent workers. Public so
   * that a test with a fake clock beats it itself; resolves when what it found is carried out.
   */
  tick(): Promise<void> {
    const last = this.lastTickMs;
    this.lastTickMs = this.state.now();
    return cluster.tick(this.state, last, TICK_MS);
  }

  /** Tells every worker to exit at its next request, and answers the waiting ones now. */
  shutdownWorkers(): void {
    this.state.shuttingDown = true;
    wake(this.state);
  }

  stop(): void {
    clearInterval(this.ticker);
    this.shutdownWorkers();
    this.state.journal?.close();
  }
}
