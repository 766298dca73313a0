// The master: takes jobs, hands tasks to workers (long poll), accepts attempts' results and
// commits stages. Every decision is the pure Scheduler's; this class does the I/O around it.
import { traceStages, type JobTrace } from '../core/job-trace.ts';
import { randomUUID } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { autoSplitBytes, computeSplits } from '../core/splits.ts';
import { Scheduler, isFinished, type Assignment, type SchedulerEvent } from '../core/scheduler.ts';
import type { AttemptRecord, StageRecord, TaskRecord } from '../core/task-table.ts';
import { OutputExistsError, UsageError, oneLine } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { Logger } from '../log.ts';
import type * as M from '../transport/messages.ts';
import type { MasterService } from '../transport/transport.ts';
import { claimOutputDir, endClaim, reclaimOutputDir, releaseOutputDir, type OutputClaim } from '../storage/output-dir.ts';
import { clearStageOutput, commitStage, ensureDir, publishChainOutput, stageDir, statInputs } from './stage-output.ts';
import { AttemptHistory, parseTaskName, type AttemptOutcome } from './attempt-history.ts';
import { droppedOutcome } from './attempt-outcomes.ts';
import { NodeTable } from './node-table.ts';
import { ProcessTable } from './process-table.ts';
import { Journal } from './journal.ts';
import { replay } from './recovery.ts';
import { jobStatus, type WorkerBase } from './job-status.ts';
import { stageProgress, type AttemptFigures, type StageProgress } from '../core/progress.ts';
import { processStats } from '../process-stats.ts';
import { ReplyMemo } from './reply-memo.ts';
import { attemptLabel, progressMark } from '../core/task-timeout.ts';
import { DEFAULTS } from '../config.ts';

export interface MasterOptions {
  log: Logger;
  journalPath?: string;          // journal jobs and commits here, and resume from it on start
  leaseMs?: number;
  heartbeatIntervalMs?: number;
  workerTimeoutMs?: number;
  taskTimeoutMs?: number;        // an attempt whose progress does not move this long fails (0: never)
  now?: () => number;
  nodes?: number;                // a simulated machine: place tasks statically on this many nodes
  onJobEnd?: (jobId: string) => void; // a job succeeded, failed or was killed
  chaosCounts?: () => M.ChaosCounts | undefined; // what --chaos did to this process's messages
  onAttemptEnd?: (attempt: M.AttemptLog, counters: Record<string, number>) => void; // a report was taken (metrics)
}

/** How long the master remembers a reply it gave, for the same request coming again (see ReplyMemo). */
const REPLY_KEEP_MS = 120_000;

interface Waiter {
  workerId: string;
  resolve: (reply: M.TaskReply) => void;
  timer: NodeJS.Timeout;
}

export class Master implements MasterService {
  readonly scheduler: Scheduler;
  readonly specs = new Map<string, M.JobSpec[]>();
  readonly files = new Map<string, string[]>();
  readonly workerAddresses = new Map<string, string>();
  private readonly workerPids = new Map<number, string>();
  readonly workerStats = new Map<string, M.ProcessStats>();
  private readonly outcomes = new Map<string, boolean>();
  private readonly history = new AttemptHistory();
  private readonly processTable = new ProcessTable();
  private readonly nodeTable = new NodeTable();
  private readonly stopped = new Set<string>();     // attempts held paused (mr kill -s STOP)
  private readonly reporting = new Set<string>();   // attempts whose report is being taken
  // Each unfinished job's claim on its output (the dirs made for it are removed if it fails). A job
  // without one owns no output: nothing there is touched for it.
  private readonly claims = new Map<string, OutputClaim>();
  // What each worker's running attempts last reported, and the progress shown per stage (it never drops).
  private readonly attemptFigures = new Map<string, Map<string, AttemptFigures>>();
  private readonly shownProgress = new Map<string, StageProgress>();
  private waiters: Waiter[] = [];
  private ticker?: NodeJS.Timeout;
  private shuttingDown = false;
  private journal?: Journal;
  private readonly now: () => number;
  private readonly heartbeatIntervalMs: number;
  private readonly leaseMs: number;
  private readonly taskTimeoutMs: number;
  private readonly workerTimeoutMs: number;
  private lastTickMs: number;
  // Requests that may come twice (a retry after a lost reply, a duplicate on the way) are answered once.
  private readonly submissions: ReplyMemo<M.SubmitJobReply>;
  private readonly polls: ReplyMemo<M.TaskReply>;
  private readonly reports: ReplyMemo<M.AttemptReportReply>;

  constructor(private readonly options: MasterOptions) {
    this.now = options.now ?? Date.now;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs;
    this.leaseMs = options.leaseMs ?? DEFAULTS.leaseMs;
    this.taskTimeoutMs = options.taskTimeoutMs ?? DEFAULTS.taskTimeoutMs;
    this.workerTimeoutMs = options.workerTimeoutMs ?? DEFAULTS.workerTimeoutMs;
    this.scheduler = new Scheduler({
      leaseMs: this.leaseMs, workerTimeoutMs: this.workerTimeoutMs, nodes: options.nodes, taskTimeoutMs: this.taskTimeoutMs,
    });
    this.submissions = new ReplyMemo(REPLY_KEEP_MS, this.now);
    this.polls = new ReplyMemo(REPLY_KEEP_MS, this.now);
    this.reports = new ReplyMemo(REPLY_KEEP_MS, this.now);
    this.lastTickMs = this.now();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  /** Resumes from the journal, if there is one: committed work stays committed. */
  async recover(): Promise<void> {
    const path = this.options.journalPath;
    if (!path) return;
    const now = this.now();
    const recovery = replay(Journal.read(path), this.scheduler, this, now);
    this.scheduler.setEpoch(recovery.epoch + 1);
    this.journal = new Journal(path);
    this.journal.append({ t: 'epoch', epoch: recovery.epoch + 1 }, true);
    if (recovery.epoch > 0) this.options.log.info('resumed from the journal', { epoch: recovery.epoch + 1, jobs: this.scheduler.jobs.size });
    await this.reclaimOutputs();
    for (const { jobId, stage } of recovery.toCommit) await this.finishStage(jobId, stage);
    for (const { jobId, inputs } of recovery.toStart) await this.prepareStage(jobId, inputs ?? this.specs.get(jobId)![0].inputFiles);
  }

  /**
   * A resumed job claims its output again (the claim of this master's previous process is stale
   * now). One that another run took meanwhile fails, and nothing in that output is touched.
   */
  private async reclaimOutputs(): Promise<void> {
    for (const [jobId, job] of this.scheduler.jobs) {
      const specs = this.specs.get(jobId);
      if (isFinished(job.state) || !specs) continue;
      try {
        this.claims.set(jobId, await reclaimOutputDir(specs[0].outputDir, jobId));
      } catch (error) {
        await this.handle(this.scheduler.failJob(jobId, `cannot resume: ${oneLine(error)}`, this.now()));
      }
    }
  }

  submitJob(req: M.SubmitJobRequest): Promise<M.SubmitJobReply> {
    const jobId = req.jobId || randomUUID();
    return this.submissions.once(jobId, () => this.startJob(jobId, req));
  }

  private async startJob(jobId: string, req: M.SubmitJobRequest): Promise<M.SubmitJobReply> {
    if (this.specs.has(jobId)) return { jobId };
    if (req.stages.length === 0) throw new UsageError('a job needs at least one stage');
    req.stages.forEach((spec, i) => checkSpec(spec, i + 1));
    const writer = this.jobWritingTo(req.stages[0].outputDir);
    if (writer) throw new OutputExistsError(`output directory ${req.stages[0].outputDir} is being written by job ${writer}; give --output another directory`);
    // Atomic across processes and masters: of two jobs given one output, one is refused here.
    const claim = await claimOutputDir(req.stages[0].outputDir, jobId);
    this.claims.set(jobId, claim);
    this.specs.set(jobId, req.stages);
    this.journal?.append({ t: 'job', jobId, stages: req.stages }, true);
    this.scheduler.addJob(jobId, req.stages.length, req.stages[0].maxAttempts || 4, this.now(), req.stages[0].speculation);
    await this.prepareStage(jobId, req.stages[0].inputFiles);
    this.options.log.info('job submitted', { jobId, stages: req.stages.length });
    return { jobId };
  }

  /** The unfinished job that writes to dir, if any: its output directory may still be empty. */
  private jobWritingTo(dir: string): string | undefined {
    for (const [jobId, stages] of this.specs) {
      const job = this.scheduler.jobs.get(jobId);
      if (job && !isFinished(job.state) && stages[0].outputDir === dir) return jobId;
    }
    return undefined;
  }

  /** Computes the splits of the job's next stage and starts it. */
  private async prepareStage(jobId: string, inputs: readonly string[]): Promise<void> {
    const job = this.scheduler.jobs.get(jobId);
    const specs = this.specs.get(jobId);
    if (!job || !specs || isFinished(job.state)) return;
    const spec = specs[job.stages.length];
    try {
      await ensureDir(stageDir(spec.outputDir, job.stages.length + 1, specs.length));
      const files = await statInputs(inputs);
      const total = files.reduce((sum, file) => sum + file.sizeBytes, 0);
      const splitBytes = spec.splitBytes || autoSplitBytes(total, spec.parallelism || this.liveWorkers());
      const splits = computeSplits(files, splitBytes, spec.inputMode === 'file');
      this.journal?.append({ t: 'stage-start', jobId, stage: job.stages.length + 1, splits, reducers: spec.reducers }, true);
      this.scheduler.startStage(jobId, splits, spec.reducers, this.now());
    } catch (error) {
      await this.handle(this.scheduler.failJob(jobId, `cannot start stage ${job.stages.length + 1}: ${oneLine(error)}`, this.now()));
    }
    this.wake();
  }

  async getJobStatus(req: M.JobStatusRequest): Promise<M.JobStatus> {
    const job = this.scheduler.jobs.get(req.jobId);
    if (!job) throw new UsageError(`no job ${req.jobId} on this master`);
    this.settleAttempts();
    return jobStatus(
      job, this.specs.get(req.jobId) ?? [], this.files.get(req.jobId) ?? [], this.processes(), this.workerBases(), this.now(),
      this.history.logs(req.jobId), (stage) => this.progressOf(req.jobId, stage),
    );
  }

  /** The stage's progress, never below what any status reply showed before. */
  private progressOf(jobId: string, stage: StageRecord): StageProgress {
    const key = `${jobId}/${stage.stage}`;
    const figures = (attemptId: string): AttemptFigures | undefined => {
      const workerId = this.scheduler.attempt(attemptId)?.workerId;
      return workerId === undefined ? undefined : this.attemptFigures.get(workerId)?.get(attemptId);
    };
    const progress = stageProgress(stage, figures, this.shownProgress.get(key));
    this.shownProgress.set(key, progress);
    return progress;
  }

  hasJob(jobId: string): boolean {
    return this.scheduler.jobs.has(jobId);
  }

  /** Newest first, as every view of the jobs shows them (mr list, mr status, the page). */
  async listJobs(): Promise<M.ListJobsReply> {
    const jobs = [...this.scheduler.jobs.keys()].reverse();
    return { jobs: await Promise.all(jobs.map((jobId) => this.getJobStatus({ jobId }))) };
  }

  async getJobLogs(req: M.JobLogsRequest): Promise<M.JobLogsReply> {
    if (!this.scheduler.jobs.has(req.jobId)) throw new UsageError(`no job ${req.jobId} on this master`);
    this.settleAttempts();
    return { attempts: this.history.logs(req.jobId, req.task) };
  }

  /** The workers, without figures: each job's status counts its own attempts on them. */
  private workerBases(): WorkerBase[] {
    const now = this.now();
    return [...this.scheduler.workers.values()].map((worker) => ({
      workerId: worker.id,
      address: this.workerAddresses.get(worker.id) ?? '',
      alive: worker.alive,
      heartbeatAgeMs: now - worker.lastSeenMs,
    }));
  }

  /**
   * Gives an outcome to every attempt the scheduler let go without a report (lost with its worker,
   * cancelled with its job or by another copy's commit), ended when that happened: no attempt of a
   * finished job stays running, and every count of attempts reads the same record. An attempt whose
   * report is being taken is not among them, though the scheduler is done with it.
   */
  private settleAttempts(): void {
    const now = this.now();
    for (const attemptId of this.history.runningAttempts()) {
      const attempt = this.history.entry(attemptId);
      if (!attempt || this.scheduler.isRunning(attemptId) || this.reporting.has(attemptId)) continue;
      const jobId = this.history.jobOf(attemptId) ?? '';
      const job = this.scheduler.jobs.get(jobId);
      const name = parseTaskName(attempt.task);
      if (!job || !name) continue;
      const task = this.taskOf({ jobId, ...name });
      const outcome = droppedOutcome({
        jobState: job.state, jobFinishedMs: job.finishedMs, workerAlive: !!this.scheduler.workers.get(attempt.workerId)?.alive, taskDone: task?.state === 'done',
      }, now);
      this.endAttempt(attemptId, outcome.state, outcome.error, outcome.endedMs);
    }
  }

  /** Records the attempt's outcome (once), for mr logs, mr status, the page and the metrics alike. */
  private endAttempt(attemptId: string, state: AttemptOutcome, error: string, endedMs = this.now(), log = '', counters: Record<string, number> = {}): void {
    const ended = this.history.finished(attemptId, state, error, log, endedMs);
    if (ended) this.options.onAttemptEnd?.(ended, counters);
  }

  /** The job ended (succeeded, failed or killed): its attempts still running end with it. */
  private jobEnded(jobId: string): void {
    this.settleAttempts();
    this.options.onJobEnd?.(jobId);
  }

  /** Where a job's tasks ran and what they read and wrote, for a machine model to replay. */
  trace(jobId: string): JobTrace | undefined {
    const job = this.scheduler.jobs.get(jobId);
    return job && traceStages(job.stages);
  }

  async killJob(req: M.KillJobRequest): Promise<M.KillJobReply> {
    const killed = this.scheduler.kill(req.jobId, this.now());
    if (killed) {
      this.journal?.append({ t: 'job-end', jobId: req.jobId, state: 'killed' }, true);
      await this.clearCurrentStage(req.jobId);
      this.jobEnded(req.jobId);
    }
    return { killed };
  }

  async registerWorker(req: M.RegisterWorkerRequest): Promise<M.RegisterWorkerReply> {
    this.scheduler.registerWorker(req.workerId, this.now(), req.hasNode ? req.node : undefined);
    const node = this.nodeTable.assign(req.workerId, req.hasNode ? req.node : undefined);
    if (this.workerAddresses.get(req.workerId) !== req.address) this.journal?.append({ t: 'worker', workerId: req.workerId, address: req.address });
    this.workerAddresses.set(req.workerId, req.address);
    this.workerPids.set(req.pid, req.workerId);
    this.options.log.info('worker registered', { workerId: req.workerId, address: req.address, slots: req.slots, node });
    return { heartbeatIntervalMs: this.heartbeatIntervalMs, leaseMs: this.leaseMs, node, taskTimeoutMs: this.taskTimeoutMs };
  }

  /** A long poll; one the worker names (requestId) is answered once, however often it comes. */
  requestTask(req: M.TaskRequest): Promise<M.TaskReply> {
    return req.requestId ? this.polls.once(`${req.workerId}/${req.requestId}`, () => this.poll(req)) : this.poll(req);
  }

  private poll(req: M.TaskRequest): Promise<M.TaskReply> {
    const now = this.reply(req.workerId);
    if (now || req.waitMs <= 0) return Promise.resolve(now ?? { retryAfterMs: 200 });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        resolve({ retryAfterMs: 0 });
      }, req.waitMs);
      this.waiters.push({ workerId: req.workerId, resolve, timer });
    });
  }

  /** A reply for the worker right now (a task, or shutdown), or undefined to keep it waiting. */
  private reply(workerId: string): M.TaskReply | undefined {
    if (this.shuttingDown) return { shutdown: true };
    if (!this.scheduler.workers.get(workerId)?.alive) return { retryAfterMs: 0 }; // it re-registers on heartbeat
    const assignment = this.scheduler.assign(workerId, this.now());
    if (!assignment) return undefined;
    this.history.started(assignment, workerId, this.scheduler.isBackup(assignment.attemptId), this.now());
    this.processTable.started(assignment, workerId, this.nodeTable.nodeOf(workerId) ?? 0, this.now());
    return { task: this.toTask(assignment) };
  }

  private toTask(a: Assignment): M.Task {
    const specs = this.specs.get(a.jobId) as M.JobSpec[];
    const base = specs[a.stage - 1];
    const spec = {
      ...base,
      inputFiles: [], // a task reads its split, never the job's whole input list (which can be huge)
      outputDir: stageDir(base.outputDir, a.stage, specs.length),
      inputMode: a.stage > 1 ? 'records' : base.inputMode,
    };
    const mapOutputs = (a.mapOutputs ?? []).map((ref, mapTask) => ({
      mapTask, outputId: ref.outputId, workerAddress: this.workerAddresses.get(ref.workerId) ?? '',
      path: `map-out/${ref.outputId}`, // ssi: a plain namespace path: the reducer need not know which node has it
    }));
    // A split without its file's snapshot (journaled before there was one) goes as the proto's "0: not recorded".
    const split = a.split ? { ...a.split, fileBytes: a.split.fileBytes ?? 0, mtimeMs: a.split.mtimeMs ?? 0 } : null;
    return { jobId: a.jobId, stage: a.stage, kind: a.kind, taskIndex: a.index, attemptId: a.attemptId, spec, split, mapOutputs };
  }

  /** Hands tasks to waiting workers; called whenever the scheduler's state may have changed. */
  private wake(): void {
    const still: Waiter[] = [];
    // The least loaded node first: with several slots per worker, work spreads before it stacks.
    const load = (w: Waiter): number => this.scheduler.runningOn(w.workerId);
    const byLoad = [...this.waiters].sort((a, b) => load(a) - load(b));
    for (const waiter of byLoad) {
      const reply = this.reply(waiter.workerId);
      if (!reply) {
        still.push(waiter);
        continue;
      }
      clearTimeout(waiter.timer);
      waiter.resolve(reply);
    }
    this.waiters = still;
  }

  /** Deduplicated by attempt id: the same report again gets the same reply, the next task it carried included. */
  reportAttempt(req: M.AttemptReport): Promise<M.AttemptReportReply> {
    return this.reports.once(req.attemptId, async () => {
      this.reporting.add(req.attemptId);
      try {
        return await this.report(req);
      } finally {
        this.reporting.delete(req.attemptId);
      }
    });
  }

  private async report(req: M.AttemptReport): Promise<M.AttemptReportReply> {
    // A dispatcher's report carries the figures of the server that ran the attempt, under its own id.
    if (req.stats) this.workerStats.set(req.stats.workerId || req.workerId, req.stats);
    const known = this.outcomes.get(req.attemptId);
    if (known !== undefined) return { accepted: known, next: null };
    const nowMs = this.now(); // one time for the task's end, the job's and the attempt's
    let accepted = false;
    let lost = false; // a fetch failure the scheduler did not count: the map outputs went with their worker
    let events: readonly SchedulerEvent[] = [];
    if (req.ok && !this.scheduler.attempt(req.attemptId) && req.outputId && this.scheduler.isCommittedOutput(req.outputId)) {
      accepted = true; // committed before a restart: its worker must keep the output
    } else if (req.ok) {
      const attempt = this.scheduler.attempt(req.attemptId);
      const result = this.scheduler.succeed(req.attemptId, req.outputId, req.counters ?? {}, nowMs, req.partitionBytes ?? [], req.partitionRecords ?? []);
      accepted = result.accepted;
      if (accepted && attempt) {
        this.journalCommit(attempt, req);
        failpoint(attempt.kind === 'map' ? 'master.map.after-commit' : 'master.reduce.after-commit');
      }
      events = result.events;
    } else if (req.lostMapTasks?.length) {
      this.options.log.warn('map outputs lost', { attemptId: req.attemptId, mapTasks: req.lostMapTasks, error: req.error });
      const task = this.taskOf(this.scheduler.attempt(req.attemptId));
      const failures = task?.failures ?? 0;
      events = this.scheduler.fetchFailed(req.attemptId, req.lostMapTasks, req.error, nowMs);
      lost = (task?.failures ?? 0) === failures;
    } else {
      this.options.log.warn('attempt failed', { attemptId: req.attemptId, error: req.error });
      events = this.scheduler.fail(req.attemptId, req.error, nowMs, req.ownDeath);
    }
    this.outcomes.set(req.attemptId, accepted);
    // The outcome is recorded before the events are carried out: a job this report ends is seen ended
    // only with this attempt's outcome in its counts.
    const state = !req.ok ? (lost ? 'lost' : 'failed') : accepted ? 'succeeded' : 'rejected';
    this.processTable.ended(req.attemptId, req.ok ? 'done' : 'failed', nowMs);
    const error = req.error || (accepted || !req.ok ? '' : 'late or duplicate: another attempt committed, or the job ended');
    this.endAttempt(req.attemptId, state, error, nowMs, req.log ?? '', req.counters ?? {});
    await this.handle(events);
    this.settleAttempts(); // the other copies of a task this report committed
    this.wake();
    // Piggybacking: the slot that reported is free, so its next task rides on this reply (after
    // the workers already waiting were served), which halves the calls per task.
    return { accepted, next: (req.wantTask ? this.reply(req.workerId) : undefined) ?? null };
  }

  private taskOf(attempt: { jobId: string; stage: number; kind: string; index: number } | undefined): TaskRecord | undefined {
    const stage = attempt && this.scheduler.jobs.get(attempt.jobId)?.stages[attempt.stage - 1];
    return stage ? (attempt.kind === 'map' ? stage.maps : stage.reduces)[attempt.index] : undefined;
  }

  private journalCommit(attempt: Readonly<AttemptRecord>, req: M.AttemptReport): void {
    this.journal?.append({
      t: 'task-done', jobId: attempt.jobId, stage: attempt.stage, kind: attempt.kind, index: attempt.index,
      output: attempt.kind === 'map' ? { workerId: attempt.workerId, outputId: req.outputId } : undefined,
      counters: req.counters ?? {}, durationMs: this.now() - attempt.startedMs,
      ...(attempt.kind === 'map' ? { partitionBytes: req.partitionBytes ?? [], partitionRecords: req.partitionRecords ?? [] } : {}),
    }, true);
  }

  async commitAttempt(req: M.CommitRequest): Promise<M.CommitReply> {
    return { allowed: this.scheduler.mayCommit(req.attemptId) };
  }

  async heartbeat(req: M.HeartbeatRequest): Promise<M.HeartbeatReply> {
    // From the worker's liveness thread while one call of a job function holds its event loop:
    // it renews the worker and its attempts' leases only; cancels wait for the worker's own heartbeat.
    if (req.busy) {
      const known = this.scheduler.heartbeat(req.workerId, req.runningAttempts, this.now());
      return { cancelAttempts: [], reregister: known === undefined, pausedAttempts: [] };
    }
    if (req.stats) {
      this.workerStats.set(req.workerId, req.stats);
      this.processTable.sample(req.workerId, req.stats);
    }
    const figures = new Map((req.progress ?? []).map(({ attemptId, progressUnknown, ...f }) => [attemptId, { ...f, progressUnknown }]));
    this.attemptFigures.set(req.workerId, figures);
    const now = this.now();
    for (const id of req.runningAttempts) {
      // A paused attempt, or one whose progress its worker cannot see, is not timed out.
      const held = this.stopped.has(id) || !!figures.get(id)?.progressUnknown;
      this.scheduler.noteProgress(id, progressMark(figures.get(id)), held, now);
    }
    if (req.runningAttempts.some((id) => this.scheduler.attempt(id)?.kind === 'reduce')) failpoint('master.shuffle.reduce-running');
    const cancel = this.scheduler.heartbeat(req.workerId, req.runningAttempts, this.now());
    if (cancel === undefined) return { cancelAttempts: req.runningAttempts, reregister: true, pausedAttempts: [] };
    return { cancelAttempts: cancel, reregister: false, pausedAttempts: req.runningAttempts.filter((id) => this.stopped.has(id)) };
  }

  /**
   * The workers of these nodes are alive, their thread held by a long call of a job function (its
   * host sees the thread's loop stand still): their leases are renewed as by a busy heartbeat.
   */
  nodesBusy(nodes: readonly number[]): void {
    const now = this.now();
    for (const worker of this.scheduler.workers.values()) {
      if (worker.alive && worker.node !== undefined && nodes.includes(worker.node)) this.scheduler.heartbeat(worker.id, this.scheduler.attemptsOn(worker.id), now);
    }
  }

  /** The pool's process table: every attempt on every node under one cluster-wide id. */
  async listProcesses(req: M.ListProcessesRequest): Promise<M.ListProcessesReply> {
    return { processes: this.processTable.list(req.all, this.now(), (id) => this.scheduler.isRunning(id)) };
  }

  /** Stops an attempt wherever it runs (its worker hears at its next heartbeat); the task runs again. */
  async killProcess(req: M.KillProcessRequest): Promise<M.KillProcessReply> {
    const signal = (req.signal || 'TERM').toUpperCase().replace(/^SIG/, '');
    if (!['TERM', 'KILL', 'STOP', 'CONT'].includes(signal)) return { killed: false, error: `unknown signal ${req.signal}: give TERM, KILL, STOP or CONT` };
    const process = this.processTable.attemptOf(req.cpid);
    if (!process) return { killed: false, error: `no process ${req.cpid}` };
    if (!this.scheduler.isRunning(process.attemptId)) return { killed: false, error: `process ${req.cpid} is not running` };
    if (signal === 'STOP' || signal === 'CONT') {
      if (signal === 'STOP') this.stopped.add(process.attemptId);
      else this.stopped.delete(process.attemptId);
      this.processTable.setStopped(process.attemptId, signal === 'STOP');
      return { killed: true, error: '' }; // the worker hears at its next heartbeat
    }
    this.stopped.delete(process.attemptId);
    this.processTable.ended(process.attemptId, 'killed', this.now());
    const error = `killed by mr kill ${req.cpid}`;
    const events = this.scheduler.fail(process.attemptId, error, this.now());
    this.endAttempt(process.attemptId, 'failed', error); // the scheduler counts it as the task's failure
    await this.handle(events);
    this.wake();
    return { killed: true, error: '' };
  }

  /** The node takes no new tasks; its running attempts move to other nodes, not counted as failures. */
  async drainNode(req: M.DrainNodeRequest): Promise<M.DrainNodeReply> {
    const workers = this.nodeTable.workersOn(req.node).filter((id) => this.scheduler.workers.get(id)?.alive);
    if (workers.length === 0) return { drained: false, moved: 0, error: `no live node ${req.node}` };
    let moved = 0;
    for (const workerId of workers) {
      for (const attemptId of this.scheduler.drain(workerId)) {
        this.processTable.ended(attemptId, 'moved', this.now());
        this.endAttempt(attemptId, 'cancelled', `moved: node ${req.node} was drained`);
        moved++;
      }
    }
    this.options.log.info('node drained', { node: req.node, moved });
    this.wake();
    return { drained: true, moved, error: '' };
  }

  /** Where each live node's worker serves its part of the /cluster namespace. */
  async resolveNodes(): Promise<M.ResolveNodesReply> {
    const nodes: M.NodeAddress[] = [];
    for (const worker of this.scheduler.workers.values()) {
      const node = this.nodeTable.nodeOf(worker.id);
      const address = this.workerAddresses.get(worker.id);
      if (worker.alive && node !== undefined && address) nodes.push({ node, address });
    }
    return { nodes };
  }

  /** Attempts moved off nodes that died or were drained. */
  get migrations(): number {
    return this.scheduler.migrations;
  }

  private tick(): void {
    for (const memo of [this.submissions, this.polls, this.reports]) memo.prune();
    const nowMs = this.now();
    // A tick far later than its interval: this process could not listen meanwhile (a job function of
    // an in-process worker held the event loop, or the process was stopped), so no one is blamed for it.
    if (nowMs - this.lastTickMs > TICK_MS + this.workerTimeoutMs / 2) this.scheduler.creditPause(nowMs - this.lastTickMs - TICK_MS);
    this.lastTickMs = nowMs;
    const events = this.scheduler.tick(nowMs);
    const handled = events.length > 0 ? this.handle(events) : undefined; // records the attempts it failed at once
    this.settleAttempts(); // the attempts of workers found dead just now end now, not when next read
    if (handled) void handled.then(() => this.wake());
    else this.wake();
  }

  private async handle(events: readonly SchedulerEvent[]): Promise<void> {
    // The attempts the master failed itself get their outcome before anything is awaited (see tick).
    for (const event of events) {
      if (event.type === 'attempt-timed-out') this.attemptFailed(event.attemptId, event.error);
      if (event.type === 'attempt-lost') this.endAttempt(event.attemptId, 'lost', event.error);
    }
    for (const event of events) {
      if (event.type === 'attempt-timed-out' || event.type === 'attempt-lost') continue;
      if (event.type === 'job-failed') {
        this.options.log.warn('job failed', { jobId: event.jobId, error: event.error });
        this.journal?.append({ t: 'job-end', jobId: event.jobId, state: 'failed', error: event.error }, true);
        await this.clearCurrentStage(event.jobId);
        this.jobEnded(event.jobId);
      } else {
        await this.finishStage(event.jobId, event.stage);
      }
    }
  }

  private async finishStage(jobId: string, stage: number): Promise<void> {
    const specs = this.specs.get(jobId) as M.JobSpec[];
    const spec = specs[stage - 1];
    try {
      const files = await commitStage(stageDir(spec.outputDir, stage, specs.length), spec.reducers);
      this.journal?.append({ t: 'stage-done', jobId, stage, files }, true);
      if (stage === specs.length) {
        this.files.set(jobId, specs.length > 1 ? await publishChainOutput(spec.outputDir, files) : files);
        this.journal?.append({ t: 'job-end', jobId, state: 'succeeded' }, true);
        const claim = this.claims.get(jobId);
        if (claim) endClaim(claim);
        this.claims.delete(jobId);
      }
      this.scheduler.completeStage(jobId, this.now());
      if (stage === specs.length) this.jobEnded(jobId);
      if (stage < specs.length) await this.prepareStage(jobId, files);
    } catch (error) {
      await this.handle(this.scheduler.failJob(jobId, `cannot commit stage ${stage}: ${oneLine(error)}`, this.now()));
    }
  }

  private async clearCurrentStage(jobId: string): Promise<void> {
    const job = this.scheduler.jobs.get(jobId);
    const specs = this.specs.get(jobId);
    const claim = this.claims.get(jobId);
    if (!job || !specs || !claim) return;
    this.claims.delete(jobId);
    const stage = Math.max(1, job.stages.length);
    await clearStageOutput(stageDir(specs[0].outputDir, stage, specs.length));
    releaseOutputDir(claim); // what it leaves is an attempt's still being written
  }

  private liveWorkers(): number {
    let alive = 0;
    for (const worker of this.scheduler.workers.values()) if (worker.alive) alive++;
    return alive;
  }

  private processes(): M.ProcessStats[] {
    return [processStats('master', '', this.options.chaosCounts?.()), ...this.workerStats.values()];
  }

  /** An attempt the master itself failed (no report will say why): mr logs and mr ps show it. */
  private attemptFailed(attemptId: string, error: string): void {
    this.options.log.warn('attempt failed', { attemptId, error });
    this.processTable.ended(attemptId, 'failed', this.now());
    this.endAttempt(attemptId, 'failed', error);
  }

  /**
   * A worker process on this machine is known to be dead (embedded mode sees it exit). With a
   * cause that is its attempts' own (out of memory; a stall its watchdog ended, naming them), those
   * attempts fail with it, though the worker may have been given up for silent already.
   */
  async workerProcessDied(pid: number, death?: { reason: string; attemptIds?: string[] }): Promise<void> {
    const workerId = this.workerPids.get(pid);
    if (workerId === undefined) return;
    this.options.log.warn('worker process died', { workerId, pid, ...(death ? { reason: death.reason } : {}) });
    if (death) {
      for (const attemptId of death.attemptIds ?? this.scheduler.attemptsOn(workerId)) {
        const attempt = this.history.entry(attemptId);
        if (!attempt || attempt.state !== 'running') continue;
        const [kind, index] = attempt.task.split('.')[1].split('-');
        const error = `${attemptLabel(kind, Number(index), attemptId)} ${death.reason}`;
        const events = this.scheduler.fail(attemptId, error, this.now(), true);
        this.attemptFailed(attemptId, error);
        await this.handle(events);
      }
    }
    await this.handle(this.scheduler.loseWorker(workerId, death ? death.reason : 'its process exited', this.now()));
    this.settleAttempts();
    this.wake();
  }

  /** Tells every worker to exit at its next request, and answers the waiting ones now. */
  shutdownWorkers(): void {
    this.shuttingDown = true;
    this.wake();
  }

  stop(): void {
    clearInterval(this.ticker);
    this.shutdownWorkers();
    this.journal?.close();
  }
}

/** How often the master expires leases and silent workers. */
const TICK_MS = 250;
const MAX_REDUCERS = 100_000;
/** The job modules workers load (the master loads none); the name's end only, the file is the workers' to find. */
const JOB_FILE = /\.(ts|mts|js|mjs)$/;

/** A submitted stage must make sense before anything is started for it (clients may be other programs). */
function checkSpec(spec: M.JobSpec, stage: number): void {
  const problem =
    !isAbsolute(spec.jobPath) ? 'the job path is not absolute (a job is a module file on the workers, never code or a URL)'
      : !JOB_FILE.test(spec.jobPath) ? 'the job path does not name a .ts, .mts, .js or .mjs file'
      : !isAbsolute(spec.outputDir) ? 'the output directory is not absolute'
        : stage === 1 && spec.inputFiles.length === 0 ? 'there are no input files'
          : spec.inputFiles.some((file) => !isAbsolute(file)) ? 'an input path is not absolute'
            : !(Number.isInteger(spec.reducers) && spec.reducers >= 1 && spec.reducers <= MAX_REDUCERS) ? `reducers must be 1 to ${MAX_REDUCERS}, got ${spec.reducers}`
              : !['lines', 'file', 'records'].includes(spec.inputMode) ? `unknown input mode ${spec.inputMode}`
                : undefined;
  if (problem) throw new UsageError(`stage ${stage}: ${problem}`);
}
