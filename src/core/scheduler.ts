// The master's decisions as a pure state machine: jobs, stages, tasks, attempts and workers
// change only through these methods, and time comes in as an argument (nowMs).
import type { Counters } from './counters.ts';
import type { MapInput } from './splits.ts';
import { homeNode } from './placement.ts';
import { attemptLabel, isStalled, noteProgress, stallReason } from './task-timeout.ts';
import { DEFAULT_SPECULATION, phaseTasks, pickBackup, pickPending, type SpeculationOptions } from './speculation.ts';
import {
  assignableTasks, countDone, dropAttempt, loseMapOutputs, newStage, phaseOf,
  type AttemptRecord, type MapOutputRef, type StageRecord, type TaskKind, type TaskRecord,
} from './task-table.ts';

/** Fetch failures a reduce task may have before they count as its own failures. */
const FREE_FETCH_FAILURES = 8;
/** Dropped attempts remembered for a late diagnosis of their worker's death. */
const MAX_DROPPED = 10_000;

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'killed';

export interface SchedulerOptions {
  leaseMs: number;              // an attempt not renewed by a heartbeat for this long is presumed lost
  workerTimeoutMs: number;      // a worker silent for this long is presumed dead
  speculation?: SpeculationOptions;
  epoch?: number;               // how many times the master has started; keeps attempt ids unique across restarts
  nodes?: number;               // a simulated machine of this many nodes: tasks are placed statically (placement.ts)
  taskTimeoutMs?: number;       // an attempt whose progress does not move this long fails (0 or absent: never)
}

export interface JobRecord {
  id: string;
  state: JobState;
  stageCount: number;
  maxAttempts: number;
  speculation: boolean;         // backup attempts for stragglers
  stages: StageRecord[];        // started stages, in order
  awaitingStage: boolean;       // between stages: the master is preparing the next one
  error?: string;
  submittedMs: number;
  finishedMs?: number;
}

export interface WorkerRecord {
  id: string;
  lastSeenMs: number;
  alive: boolean;
  node?: number;                 // its node on a simulated machine
  draining?: boolean;            // takes no new tasks (mr drain)
}

export interface Assignment {
  attemptId: string;
  jobId: string;
  stage: number;
  kind: TaskKind;
  index: number;
  splits?: MapInput;
  mapOutputs?: MapOutputRef[];  // reduce tasks: one per map task, in map order
}

/** Something the master must act on with I/O. */
export type SchedulerEvent =
  | { type: 'stage-reduced'; jobId: string; stage: number }   // every reduce committed: write _SUCCESS
  | { type: 'job-failed'; jobId: string; error: string }
  | { type: 'attempt-timed-out'; attemptId: string; error: string } // failed by the task timeout: record why
  | { type: 'attempt-lost'; attemptId: string; error: string };     // lost with its worker, counted as a failure: record why

export class Scheduler {
  readonly jobs = new Map<string, JobRecord>();
  readonly workers = new Map<string, WorkerRecord>();
  private readonly attempts = new Map<string, AttemptRecord>();
  /**
   * Attempts dropped with their worker (not failures), kept a while: a worker found dead later for
   * a reason that is the attempt's (it ran out of memory, it stalled) still fails the attempt.
   */
  private readonly dropped = new Map<string, AttemptRecord>();
  /** Of the dropped attempts, those whose loss counted as a failure already (see loseWorker). */
  private readonly charged = new Set<string>();
  /** Attempts moved off a node (it died or was drained): restarted elsewhere, not failures. */
  migrations = 0;

  constructor(private readonly options: SchedulerOptions) {}

  addJob(id: string, stageCount: number, maxAttempts: number, nowMs: number, speculation = true): JobRecord {
    const existing = this.jobs.get(id);
    if (existing) return existing;
    const job: JobRecord = { id, state: 'queued', stageCount, maxAttempts, speculation, stages: [], awaitingStage: true, submittedMs: nowMs };
    this.jobs.set(id, job);
    return job;
  }

  /** Starts the job's next stage over the given map inputs (computed by the master from the input files), one per map task. */
  startStage(jobId: string, splits: MapInput[], reducers: number, nowMs: number): void {
    const job = this.mustGetJob(jobId);
    if (!job.awaitingStage || isFinished(job.state)) return;
    job.stages.push(newStage(job.stages.length + 1, splits, reducers, nowMs));
    job.awaitingStage = false;
    job.state = 'running';
  }

  /** After the master committed a stage (its _SUCCESS is written): the job goes on or is done. */
  completeStage(jobId: string, nowMs: number): void {
    const job = this.mustGetJob(jobId);
    if (isFinished(job.state)) return; // killed or failed while the stage was being committed
    if (job.stages.length >= job.stageCount) {
      job.state = 'succeeded';
      job.finishedMs = nowMs;
    } else {
      job.awaitingStage = true;
    }
  }

  registerWorker(workerId: string, nowMs: number, node?: number): void {
    const draining = this.workers.get(workerId)?.draining;
    this.workers.set(workerId, { id: workerId, lastSeenMs: nowMs, alive: true, ...(node === undefined ? {} : { node }), ...(draining ? { draining } : {}) });
  }

  /**
   * The worker takes no new tasks, and its running attempts are dropped (not failures) to run
   * again elsewhere; its finished map outputs stay where they are. Returns the attempts moved.
   */
  drain(workerId: string): string[] {
    const worker = this.workers.get(workerId);
    if (!worker) return [];
    worker.draining = true;
    return this.dropAttemptsOf(workerId);
  }

  private dropAttemptsOf(workerId: string): string[] {
    const moved: string[] = [];
    for (const attempt of [...this.attempts.values()]) {
      if (attempt.workerId !== workerId) continue;
      this.attempts.delete(attempt.id);
      this.keepDropped(attempt);
      const { task } = this.locate(attempt);
      if (task) dropAttempt(task, attempt.id);
      moved.push(attempt.id);
    }
    this.migrations += moved.length;
    return moved;
  }

  private keepDropped(attempt: AttemptRecord): void {
    this.dropped.set(attempt.id, attempt);
    if (this.dropped.size > MAX_DROPPED) {
      const oldest = this.dropped.keys().next().value as string;
      this.dropped.delete(oldest);
      this.charged.delete(oldest);
    }
  }

  /** What a heartbeat says of a running attempt's progress (see task-timeout.ts). */
  noteProgress(attemptId: string, mark: number, paused: boolean, nowMs: number): void {
    const attempt = this.attempts.get(attemptId);
    if (attempt) noteProgress(attempt, mark, paused, nowMs);
  }

  /** Renews the worker and its attempts' leases; returns the attempts it should stop, or undefined if unknown. */
  heartbeat(workerId: string, runningAttemptIds: readonly string[], nowMs: number): string[] | undefined {
    const worker = this.workers.get(workerId);
    if (!worker || !worker.alive) return undefined;
    worker.lastSeenMs = nowMs;
    const cancel: string[] = [];
    for (const id of runningAttemptIds) {
      const attempt = this.attempts.get(id);
      if (attempt && attempt.workerId === workerId) attempt.leaseUntilMs = nowMs + this.options.leaseMs;
      else cancel.push(id);
    }
    return cancel;
  }

  /** Hands the worker the next task of the oldest running job, a backup of a straggler, or nothing. */
  assign(workerId: string, nowMs: number): Assignment | undefined {
    const worker = this.workers.get(workerId);
    if (!worker || !worker.alive) return undefined;
    worker.lastSeenMs = nowMs;
    if (worker.draining) return undefined;
    const live = [...this.workers.values()].filter((w) => w.alive).map((w) => w.id);
    for (const job of this.jobs.values()) {
      if (job.state !== 'running' || job.awaitingStage) continue;
      const stage = job.stages[job.stages.length - 1];
      const task = pickPending(this.placed(stage, assignableTasks(stage), worker), workerId, live);
      if (task) return this.startAttempt(job, stage, task, workerId, nowMs, false);
    }
    // On a simulated machine placement is static, so a straggler gets no backup elsewhere.
    if (this.options.nodes !== undefined) return undefined;
    for (const job of this.jobs.values()) {
      if (job.state !== 'running' || job.awaitingStage || !job.speculation) continue;
      const stage = job.stages[job.stages.length - 1];
      if (assignableTasks(stage).length > 0) continue;
      const straggler = pickBackup(phaseTasks(stage), workerId, nowMs, this.options.speculation ?? DEFAULT_SPECULATION);
      if (straggler) return this.startAttempt(job, stage, straggler, workerId, nowMs, true);
    }
    return undefined;
  }

  /**
   * With static placement (options.nodes), the tasks this worker may take: those whose home is
   * its node, those whose home node has no live worker (so a lost node never stalls a job), and
   * those that already failed (a retry goes where pickPending sees fit, as anywhere else).
   */
  private placed(stage: StageRecord, tasks: TaskRecord[], worker: WorkerRecord): TaskRecord[] {
    const nodes = this.options.nodes;
    if (nodes === undefined || worker.node === undefined) return tasks;
    const liveNodes = new Set<number>();
    for (const w of this.workers.values()) if (w.alive && w.node !== undefined) liveNodes.add(w.node);
    return tasks.filter((task) => {
      const home = homeNode(task.index, task.kind === 'map' ? stage.maps.length : stage.reduces.length, nodes);
      return home === worker.node || !liveNodes.has(home) || task.failures > 0;
    });
  }

  private startAttempt(job: JobRecord, stage: StageRecord, task: TaskRecord, workerId: string, nowMs: number, backup: boolean): Assignment {
    task.attemptsStarted++;
    if (backup) stage.backupAttempts++;
    const epoch = (this.options.epoch ?? 1) > 1 ? `.e${this.options.epoch}` : '';
    const attemptId = `${job.id}.s${stage.stage}.${task.kind}-${task.index}${epoch}.a${task.attemptsStarted}`;
    const attempt: AttemptRecord = {
      id: attemptId, jobId: job.id, stage: stage.stage, kind: task.kind, index: task.index,
      workerId, startedMs: nowMs, leaseUntilMs: nowMs + this.options.leaseMs, backup, progressMark: 0, progressMs: nowMs,
    };
    this.attempts.set(attemptId, attempt);
    task.running.set(attemptId, attempt);
    task.state = 'running';
    const base = { attemptId, jobId: job.id, stage: stage.stage, kind: task.kind, index: task.index };
    if (task.kind === 'map') return { ...base, splits: stage.splits[task.index] };
    return { ...base, mapOutputs: stage.maps.map((map) => map.output as MapOutputRef) };
  }

  /** An attempt finished. Only the first success of a task is accepted; the rest are stale. */
  succeed(
    attemptId: string, outputId: string, counters: Counters, nowMs: number, partitionBytes: readonly number[] = [], partitionRecords: readonly number[] = [],
  ): { accepted: boolean; events: SchedulerEvent[] } {
    const attempt = this.attempts.get(attemptId);
    if (!attempt) return { accepted: false, events: [] };
    this.attempts.delete(attemptId);
    const { job, stage, task } = this.locate(attempt);
    task?.running.delete(attemptId);
    if (!job || !stage || !task || job.state !== 'running' || task.state === 'done') {
      return { accepted: false, events: [] };
    }
    task.state = 'done';
    task.doneMs = nowMs;
    task.durationMs = nowMs - attempt.startedMs;
    for (const loser of task.running.keys()) this.attempts.delete(loser); // cancelled at their next heartbeat
    task.running.clear();
    if (task.kind === 'map') task.output = { workerId: attempt.workerId, outputId };
    task.counters = counters;
    task.partitionBytes = [...partitionBytes];
    task.partitionRecords = [...partitionRecords];
    task.node = this.workers.get(attempt.workerId)?.node;
    const phase = phaseOf(stage);
    if (phase !== 'map' && stage.mapDoneMs === undefined) stage.mapDoneMs = nowMs;
    if (phase === 'commit') {
      stage.reduceDoneMs = nowMs;
      return { accepted: true, events: [{ type: 'stage-reduced', jobId: job.id, stage: stage.stage }] };
    }
    return { accepted: true, events: [] };
  }

  /**
   * Whether outputId is a map output some task committed. A master restarted from its journal
   * does not know the attempts of before; a report of one whose commit was journaled just before
   * the crash (its reply lost with the master) is that commit's, not a late duplicate.
   */
  isCommittedOutput(outputId: string): boolean {
    for (const job of this.jobs.values()) {
      for (const stage of job.stages) if (stage.maps.some((task) => task.state === 'done' && task.output?.outputId === outputId)) return true;
    }
    return false;
  }

  /** The task an attempt (or any reference to a task) is of, if its job and stage are known. */
  taskOf(ref: { jobId: string; stage: number; kind: string; index: number }): Readonly<TaskRecord> | undefined {
    const stage = this.jobs.get(ref.jobId)?.stages[ref.stage - 1];
    return stage ? (ref.kind === 'map' ? stage.maps : stage.reduces)[ref.index] : undefined;
  }

  attempt(attemptId: string): Readonly<AttemptRecord> | undefined {
    return this.attempts.get(attemptId);
  }

  setEpoch(epoch: number): void {
    this.options.epoch = epoch;
  }

  isRunning(attemptId: string): boolean {
    return this.attempts.has(attemptId);
  }

  /** The ids of the attempts that run on the worker now. */
  attemptsOn(workerId: string): string[] {
    return [...this.attempts.values()].filter((attempt) => attempt.workerId === workerId).map((attempt) => attempt.id);
  }

  /** How many attempts run on the worker now. */
  runningOn(workerId: string): number {
    let count = 0;
    for (const attempt of this.attempts.values()) if (attempt.workerId === workerId) count++;
    return count;
  }

  isBackup(attemptId: string): boolean {
    return this.attempts.get(attemptId)?.backup ?? false;
  }

  /** Whether an attempt may put its output in place: the first to ask per task, while its job runs. */
  mayCommit(attemptId: string): boolean {
    const attempt = this.attempts.get(attemptId);
    if (!attempt) return false;
    const { job, task } = this.locate(attempt);
    if (!job || !task || job.state !== 'running' || task.state === 'done') return false;
    if (task.committer !== undefined && task.committer !== attemptId) return false;
    task.committer = attemptId;
    return true;
  }

  /** Replays a commit from the journal: the task is done with this output, as before the restart. */
  restoreTaskDone(jobId: string, stageNumber: number, kind: TaskKind, index: number, output: MapOutputRef | undefined, counters: Counters, nowMs: number,
    partitionBytes?: readonly number[], partitionRecords?: readonly number[]): void {
    const stage = this.jobs.get(jobId)?.stages[stageNumber - 1];
    const task = stage ? (kind === 'map' ? stage.maps : stage.reduces)[index] : undefined;
    if (!stage || !task || task.state === 'done') return;
    task.state = 'done';
    task.doneMs = nowMs;
    task.output = output;
    task.counters = counters;
    if (partitionBytes) task.partitionBytes = [...partitionBytes];
    if (partitionRecords) task.partitionRecords = [...partitionRecords];
    if (phaseOf(stage) !== 'map') stage.mapDoneMs ??= nowMs;
    if (phaseOf(stage) === 'commit') stage.reduceDoneMs ??= nowMs;
  }

  /**
   * An attempt failed (its function threw, its process died, its lease ran out). ownDeath: its
   * worker died of it (out of memory, a stall), so it fails even if it was dropped with that worker.
   */
  fail(attemptId: string, error: string, nowMs: number, ownDeath = false): SchedulerEvent[] {
    const attempt = this.attempts.get(attemptId) ?? (ownDeath ? this.dropped.get(attemptId) : undefined);
    if (!attempt) return [];
    const chargedAlready = this.charged.delete(attemptId);
    this.attempts.delete(attemptId);
    this.dropped.delete(attemptId);
    const { job, stage, task } = this.locate(attempt);
    if (!job || !stage || !task) return [];
    const lostTheCommit = task.committer !== undefined && task.committer !== attemptId;
    dropAttempt(task, attemptId);
    // Refused the commit because another attempt holds it: a losing copy, not the task's failure.
    if (job.state !== 'running' || task.state === 'done' || lostTheCommit) return [];
    if (chargedAlready) task.losses--; // counted as lost; its worker's death was its own doing after all
    return this.charge(job, stage, task, attempt.workerId, error, nowMs, 'failure');
  }

  /**
   * One more failure or loss of the task; the job fails once the task has failed or been lost
   * maxAttempts times in all (a loss is not the task's failure, but a task lost every time must end).
   */
  private charge(job: JobRecord, stage: StageRecord, task: TaskRecord, workerId: string, error: string, nowMs: number, how: 'failure' | 'loss'): SchedulerEvent[] {
    if (how === 'failure') {
      task.failures++;
      stage.failedAttempts++;
    } else {
      task.losses++;
    }
    task.failedOn.add(workerId);
    task.lastError = error;
    if (task.failures + task.losses < job.maxAttempts) return [];
    const failed = task.failures > 0 ? `failed ${task.failures} times` : '';
    const lost = task.losses > 0 ? `was lost with its worker ${task.losses} times` : '';
    const what = `stage ${stage.stage} ${task.kind} task ${task.index} ${[failed, lost].filter(Boolean).join(' and ')}`;
    const message = `${what}; last error: ${error}`;
    return this.failJob(job.id, message, nowMs);
  }

  /**
   * A reduce attempt could not fetch the given map outputs: they are lost, so those maps run
   * again and the reduce waits for them (the barrier). That is not the reduce's fault, so it
   * does not count as a failure, unless it keeps happening (a reducer that cannot fetch anything).
   */
  fetchFailed(attemptId: string, mapTasks: readonly number[], error: string, nowMs: number): SchedulerEvent[] {
    const attempt = this.attempts.get(attemptId);
    if (!attempt) return [];
    const { job, stage, task } = this.locate(attempt);
    if (!job || !stage || !task) return [];
    task.fetchFailures++;
    if (task.fetchFailures > FREE_FETCH_FAILURES) return this.fail(attemptId, error, nowMs);
    this.attempts.delete(attemptId);
    dropAttempt(task, attemptId);
    loseMapOutputs(stage, (map) => mapTasks.includes(map.index));
    return [];
  }

  failJob(jobId: string, error: string, nowMs: number): SchedulerEvent[] {
    const job = this.jobs.get(jobId);
    if (!job || isFinished(job.state)) return [];
    this.finish(job, 'failed', nowMs, error);
    return [{ type: 'job-failed', jobId, error }];
  }

  kill(jobId: string, nowMs: number): boolean {
    const job = this.jobs.get(jobId);
    if (!job || isFinished(job.state)) return false;
    this.finish(job, 'killed', nowMs, 'the job was killed');
    return true;
  }

  private finish(job: JobRecord, state: JobState, nowMs: number, error?: string): void {
    job.state = state;
    job.error = error;
    job.finishedMs = nowMs;
    for (const [id, attempt] of this.attempts) if (attempt.jobId === job.id) this.attempts.delete(id);
    // Their reports are refused from now on, so nothing else would ever take them off their tasks:
    // a finished job must not show attempts still running.
    for (const stage of job.stages) {
      for (const task of [...stage.maps, ...stage.reduces]) for (const id of [...task.running.keys()]) dropAttempt(task, id);
    }
  }

  /**
   * The master could not listen for pausedMs (its own event loop was held, say by a job function of
   * a worker in its process, or its process was stopped): the silence of that time is no one's.
   */
  creditPause(pausedMs: number): void {
    for (const worker of this.workers.values()) if (worker.alive) worker.lastSeenMs += pausedMs;
    for (const attempt of this.attempts.values()) attempt.leaseUntilMs += pausedMs;
  }

  /** Expires leases and silent workers. A dead worker's finished map outputs are lost with it. */
  tick(nowMs: number): SchedulerEvent[] {
    const events: SchedulerEvent[] = [];
    for (const worker of this.workers.values()) {
      if (worker.alive && nowMs - worker.lastSeenMs > this.options.workerTimeoutMs) {
        events.push(...this.loseWorker(worker.id, `no heartbeat for ${Math.round(this.options.workerTimeoutMs / 100) / 10} s`, nowMs));
      }
    }
    const timeoutMs = this.options.taskTimeoutMs ?? 0;
    for (const attempt of [...this.attempts.values()]) {
      if (isStalled(attempt, timeoutMs, nowMs)) {
        const error = `${attemptLabel(attempt.kind, attempt.index, attempt.id)} ${stallReason(timeoutMs)}`;
        events.push({ type: 'attempt-timed-out', attemptId: attempt.id, error }, ...this.fail(attempt.id, error, nowMs));
      } else if (attempt.leaseUntilMs < nowMs) {
        events.push(...this.fail(attempt.id, `attempt ${attempt.id} lost its lease (no heartbeat for ${this.options.leaseMs} ms)`, nowMs));
      }
    }
    return events;
  }

  /**
   * A worker is gone (silent, or its process died): its map outputs rerun, and its attempts run
   * again elsewhere. Each such loss is counted on its task (a drain's is not): no failure of the
   * task's, but a task that hangs or kills every worker it runs on must end its job, with a reason,
   * once its failures and losses reach maxAttempts.
   */
  loseWorker(workerId: string, why: string, nowMs: number): SchedulerEvent[] {
    const worker = this.workers.get(workerId);
    if (worker) worker.alive = false;
    const events: SchedulerEvent[] = [];
    for (const attemptId of this.dropAttemptsOf(workerId)) {
      const attempt = this.dropped.get(attemptId)!;
      const { job, stage, task } = this.locate(attempt);
      if (!job || !stage || !task || job.state !== 'running' || task.state === 'done') continue;
      if (task.committer !== undefined && task.committer !== attemptId) continue;
      const error = `${attemptLabel(attempt.kind, attempt.index, attemptId)} was lost with its worker ${workerId} (${why})`;
      this.charged.add(attemptId);
      events.push({ type: 'attempt-lost', attemptId, error }, ...this.charge(job, stage, task, workerId, error, nowMs, 'loss'));
    }
    for (const job of this.jobs.values()) {
      if (job.state !== 'running' || job.awaitingStage) continue;
      const stage = job.stages[job.stages.length - 1];
      if (phaseOf(stage) === 'commit') continue;
      loseMapOutputs(stage, (map) => map.output?.workerId === workerId);
    }
    return events;
  }

  private locate(attempt: AttemptRecord): { job?: JobRecord; stage?: StageRecord; task?: TaskRecord } {
    const job = this.jobs.get(attempt.jobId);
    const stage = job?.stages[attempt.stage - 1];
    const task = stage ? (attempt.kind === 'map' ? stage.maps : stage.reduces)[attempt.index] : undefined;
    return { job, stage, task };
  }

  private mustGetJob(jobId: string): JobRecord {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`unknown job ${jobId}`);
    return job;
  }

  /** Done/total counts of a stage, for status reports. */
  static progress(stage: StageRecord): { mapDone: number; mapTotal: number; reduceDone: number; reduceTotal: number } {
    return {
      mapDone: countDone(stage.maps), mapTotal: stage.maps.length,
      reduceDone: countDone(stage.reduces), reduceTotal: stage.reduces.length,
    };
  }
}

export function isFinished(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'killed';
}
