// The master's decisions as a pure state machine: jobs, stages, tasks and attempts change only
// through these methods, each event returning one Step to carry out; time comes in as nowMs.
import { COUNTER, type Counters } from './counters.ts';
import { inputBytes } from './splits.ts';
import { pickPending } from './speculation.ts';
import { batchLimit, fitsBatch } from './task-batch.ts';
import { JobBook } from './job-book.ts';
import { isFinished, type Assignment, type JobRecord, type JobState, type SchedulerOptions, type WorkerRecord } from './scheduler-records.ts';
import { emptyStep, merge, stepOf, type Step } from './scheduler-step.ts';
import { chooseTask, type TaskChoice } from './task-choice.ts';
import { assignableTasks, dropAttempt, loseMapOutputs, phaseOf, setTaskState, type AttemptRecord, type MapOutputRef, type StageRecord, type TaskRecord } from './task-table.ts';
import { attemptLabel, isStalled, stallReason } from './task-timeout.ts';
import { WorkerLeases } from './worker-leases.ts';
import type { AttemptTable } from './attempt-table.ts';

/** Fetch failures a reduce task may have before they count as its own failures. */
const FREE_FETCH_FAILURES = 8;

export class Scheduler extends JobBook {
  private readonly leases: WorkerLeases;

  constructor(private readonly options: SchedulerOptions) {
    super();
    this.leases = new WorkerLeases(options);
  }

  get workers(): Map<string, WorkerRecord> {
    return this.leases.workers;
  }

  /** Attempts moved off a node (it died or was drained): restarted elsewhere, not failures. */
  get migrations(): number {
    return this.leases.migrations;
  }

  private get attempts(): AttemptTable {
    return this.leases.attempts;
  }

  registerWorker(workerId: string, nowMs: number, node?: number): Step {
    this.leases.register(workerId, nowMs, node);
    return emptyStep();
  }

  /**
   * The worker takes no new tasks, and its running attempts are dropped (not failures) to run
   * again elsewhere; its finished map outputs stay where they are. Records the attempts moved.
   */
  drain(workerId: string): Step {
    const worker = this.leases.workers.get(workerId);
    if (!worker) return emptyStep();
    worker.draining = true;
    return stepOf({ events: this.dropAttemptsOf(workerId).map((attempt) => ({ type: 'attempt-moved', attemptId: attempt.id, workerId })) });
  }

  private dropAttemptsOf(workerId: string): AttemptRecord[] {
    const dropped = this.leases.takeAttemptsOf(workerId);
    for (const attempt of dropped) {
      const { stage, task } = this.locate(attempt);
      if (stage && task) dropAttempt(stage, task, attempt.id);
    }
    return dropped;
  }

  /** What a heartbeat says of a running attempt's progress (see task-timeout.ts). */
  noteProgress(attemptId: string, mark: number, paused: boolean, nowMs: number): void {
    this.leases.noteProgress(attemptId, mark, paused, nowMs);
  }

  /** Renews the worker and its attempts' leases; cancels the attempts it should stop (see WorkerLeases.heartbeat). */
  heartbeat(workerId: string, runningAttemptIds: readonly string[], nowMs: number): Step {
    return this.leases.heartbeat(workerId, runningAttemptIds, nowMs);
  }

  /**
   * Hands the worker the next task of the oldest running job, a backup of a straggler, or nothing.
   * A worker that takes up to maxTasks at once may get a batch of short map tasks (task-batch.ts):
   * each is an attempt of its own, started and leased now, run by the worker one after another.
   */
  assign(workerId: string, nowMs: number, maxTasks = 1): Step {
    const worker = this.leases.workers.get(workerId);
    if (!worker || !worker.alive) return emptyStep();
    worker.lastSeenMs = nowMs;
    if (worker.draining) return emptyStep();
    const choice = chooseTask(this.jobs, this.leases.workers, worker, this.options, nowMs, () => this.leases.liveWorkers());
    if (!choice) return emptyStep();
    const assignments = [this.startAttempt(choice, worker.id, nowMs)];
    // Static placement (a simulated machine) decides task by task; backups and reduces go singly.
    if (!choice.backup && choice.task.kind === 'map' && this.options.nodes === undefined && maxTasks > 1) {
      assignments.push(...this.moreOfBatch(choice, worker.id, nowMs, maxTasks));
    }
    return stepOf({ assignments });
  }

  /** Further pending maps of the choice's stage for the same worker, while they fit a batch. */
  private moreOfBatch({ job, stage, task: first }: TaskChoice, workerId: string, nowMs: number, maxTasks: number): Assignment[] {
    const live = this.leases.liveWorkers();
    const limit = batchLimit(stage, maxTasks, live.length);
    const more: Assignment[] = [];
    let bytes = inputBytes(stage.splits[first.index]);
    while (more.length + 1 < limit) {
      const task = pickPending(assignableTasks(stage), workerId, () => live);
      if (!task || !fitsBatch(stage, task.index, bytes)) break;
      bytes += inputBytes(stage.splits[task.index]);
      more.push(this.startAttempt({ job, stage, task, backup: false }, workerId, nowMs));
    }
    return more;
  }

  private startAttempt({ job, stage, task, backup }: TaskChoice, workerId: string, nowMs: number): Assignment {
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
    setTaskState(stage, task, 'running');
    const base = { attemptId, jobId: job.id, stage: stage.stage, kind: task.kind, index: task.index, workerId, backup };
    if (task.kind === 'map') return { ...base, splits: stage.splits[task.index] };
    return { ...base, mapOutputs: stage.maps.map((map) => map.output as MapOutputRef) };
  }

  /** An attempt finished. Only the first success of a task is accepted; the rest are stale. */
  succeed(
    attemptId: string, outputId: string, counters: Counters, nowMs: number, partitionBytes: readonly number[] = [], partitionRecords: readonly number[] = [],
  ): Step & { accepted: boolean } {
    const attempt = this.attempts.get(attemptId);
    if (!attempt) return { accepted: false, ...emptyStep() };
    this.attempts.delete(attemptId);
    const { job, stage, task } = this.locate(attempt);
    task?.running.delete(attemptId);
    if (!job || !stage || !task || job.state !== 'running' || task.state === 'done') {
      return { accepted: false, ...emptyStep() };
    }
    setTaskState(stage, task, 'done');
    task.doneMs = nowMs;
    task.durationMs = nowMs - attempt.startedMs;
    for (const loser of task.running.keys()) this.attempts.delete(loser); // cancelled at their next heartbeat
    task.running.clear();
    if (task.kind === 'map') task.output = { workerId: attempt.workerId, outputId };
    task.counters = counters;
    const mapMs = counters[COUNTER.mapMs];
    if (task.kind === 'map' && typeof mapMs === 'number') {
      stage.mapTally.timedTasks++;
      stage.mapTally.timedMs += mapMs;
    }
    task.partitionBytes = [...partitionBytes];
    task.partitionRecords = [...partitionRecords];
    task.node = this.leases.workers.get(attempt.workerId)?.node;
    const phase = phaseOf(stage);
    if (phase !== 'map' && stage.mapDoneMs === undefined) stage.mapDoneMs = nowMs;
    if (phase === 'commit') {
      stage.reduceDoneMs = nowMs;
      return { accepted: true, ...stepOf({ events: [{ type: 'stage-reduced', jobId: job.id, stage: stage.stage }] }) };
    }
    return { accepted: true, ...emptyStep() };
  }

  attempt(attemptId: string): Readonly<AttemptRecord> | undefined {
    return this.attempts.get(attemptId);
  }

  setEpoch(epoch: number): void {
    this.options.epoch = epoch;
  }

  /** The attempts that stopped running since the last call (reported, failed, lost, cancelled), each once. */
  takeLetGo(): string[] {
    return this.attempts.takeLetGo();
  }

  isRunning(attemptId: string): boolean {
    return this.attempts.has(attemptId);
  }

  /** The ids of the attempts that run on the worker now. */
  attemptsOn(workerId: string): string[] {
    return this.leases.attemptsOn(workerId);
  }

  /** How many attempts run on the worker now. */
  runningOn(workerId: string): number {
    return this.leases.runningOn(workerId);
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

  /**
   * An attempt failed (its function threw, its process died, its lease ran out). ownDeath: its
   * worker died of it (out of memory, a stall), so it fails even if it was dropped with that worker.
   */
  fail(attemptId: string, error: string, nowMs: number, ownDeath = false): Step {
    const attempt = this.attempts.get(attemptId) ?? (ownDeath ? this.leases.dropped.get(attemptId) : undefined);
    if (!attempt) return emptyStep();
    const chargedAlready = this.leases.charged.delete(attemptId);
    this.attempts.delete(attemptId);
    this.leases.dropped.delete(attemptId);
    const { job, stage, task } = this.locate(attempt);
    if (!job || !stage || !task) return emptyStep();
    const lostTheCommit = task.committer !== undefined && task.committer !== attemptId;
    dropAttempt(stage, task, attemptId);
    // Refused the commit because another attempt holds it: a losing copy, not the task's failure.
    if (job.state !== 'running' || task.state === 'done' || lostTheCommit) return emptyStep();
    if (chargedAlready) task.losses--; // counted as lost; its worker's death was its own doing after all
    return this.charge(job, stage, task, attempt.workerId, error, nowMs, 'failure');
  }

  /**
   * One more failure or loss of the task; the job fails once the task has failed or been lost
   * maxAttempts times in all (a loss is not the task's failure, but a task lost every time must end).
   */
  private charge(job: JobRecord, stage: StageRecord, task: TaskRecord, workerId: string, error: string, nowMs: number, how: 'failure' | 'loss'): Step {
    if (how === 'failure') {
      task.failures++;
      stage.failedAttempts++;
    } else {
      task.losses++;
    }
    task.failedOn.add(workerId);
    task.lastError = error;
    if (task.failures + task.losses < job.maxAttempts) return emptyStep();
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
  fetchFailed(attemptId: string, mapTasks: readonly number[], error: string, nowMs: number): Step {
    const attempt = this.attempts.get(attemptId);
    if (!attempt) return emptyStep();
    const { job, stage, task } = this.locate(attempt);
    if (!job || !stage || !task) return emptyStep();
    task.fetchFailures++;
    if (task.fetchFailures > FREE_FETCH_FAILURES) return this.fail(attemptId, error, nowMs);
    this.attempts.delete(attemptId);
    dropAttempt(stage, task, attemptId);
    loseMapOutputs(stage, (map) => mapTasks.includes(map.index));
    return emptyStep();
  }

  failJob(jobId: string, error: string, nowMs: number): Step {
    const job = this.jobs.get(jobId);
    if (!job || isFinished(job.state)) return emptyStep();
    this.finish(job, 'failed', nowMs, error);
    return stepOf({ events: [{ type: 'job-failed', jobId, error }] });
  }

  kill(jobId: string, nowMs: number): Step {
    const job = this.jobs.get(jobId);
    if (!job || isFinished(job.state)) return emptyStep();
    this.finish(job, 'killed', nowMs, 'the job was killed');
    return stepOf({ events: [{ type: 'job-killed', jobId }] });
  }

  private finish(job: JobRecord, state: JobState, nowMs: number, error?: string): void {
    job.state = state;
    job.error = error;
    job.finishedMs = nowMs;
    for (const [id, attempt] of this.attempts) if (attempt.jobId === job.id) this.attempts.delete(id);
    // Their reports are refused from now on, so nothing else would ever take them off their tasks:
    // a finished job must not show attempts still running.
    for (const stage of job.stages) {
      for (const task of [...stage.maps, ...stage.reduces]) for (const id of [...task.running.keys()]) dropAttempt(stage, task, id);
    }
  }

  /**
   * The master could not listen for pausedMs (its own event loop was held, say by a job function of
   * a worker in its process, or its process was stopped): the silence of that time is no one's.
   */
  creditPause(pausedMs: number): void {
    this.leases.creditPause(pausedMs);
  }

  /** Expires leases and silent workers. A dead worker's finished map outputs are lost with it. */
  tick(nowMs: number): Step {
    const steps: Step[] = [];
    for (const worker of this.leases.workers.values()) {
      if (worker.alive && nowMs - worker.lastSeenMs > this.options.workerTimeoutMs) {
        steps.push(this.loseWorker(worker.id, `no heartbeat for ${Math.round(this.options.workerTimeoutMs / 100) / 10} s`, nowMs));
      }
    }
    const timeoutMs = this.options.taskTimeoutMs ?? 0;
    for (const attempt of [...this.attempts.values()]) {
      if (isStalled(attempt, timeoutMs, nowMs)) {
        const error = `${attemptLabel(attempt.kind, attempt.index, attempt.id)} ${stallReason(timeoutMs)}`;
        steps.push(stepOf({ events: [{ type: 'attempt-timed-out', attemptId: attempt.id, error }] }), this.fail(attempt.id, error, nowMs));
      } else if (attempt.leaseUntilMs < nowMs) {
        steps.push(this.fail(attempt.id, `attempt ${attempt.id} lost its lease (no heartbeat for ${this.options.leaseMs} ms)`, nowMs));
      }
    }
    return merge(...steps);
  }

  /**
   * A worker is gone (silent, or its process died): its map outputs rerun, and its attempts run
   * again elsewhere. Each such loss is counted on its task (a drain's is not): no failure of the
   * task's, but a task that hangs or kills every worker it runs on must end its job, with a reason,
   * once its failures and losses reach maxAttempts.
   */
  loseWorker(workerId: string, why: string, nowMs: number): Step {
    const worker = this.leases.workers.get(workerId);
    const steps: Step[] = worker?.alive ? [stepOf({ events: [{ type: 'worker-lost', workerId }] })] : [];
    this.leases.markLost(workerId);
    for (const attempt of this.dropAttemptsOf(workerId)) {
      const { job, stage, task } = this.locate(attempt);
      if (!job || !stage || !task || job.state !== 'running' || task.state === 'done') continue;
      if (task.committer !== undefined && task.committer !== attempt.id) continue;
      const error = `${attemptLabel(attempt.kind, attempt.index, attempt.id)} was lost with its worker ${workerId} (${why})`;
      this.leases.charged.add(attempt.id);
      steps.push(stepOf({ events: [{ type: 'attempt-lost', attemptId: attempt.id, error }] }), this.charge(job, stage, task, workerId, error, nowMs, 'loss'));
    }
    for (const job of this.jobs.values()) {
      if (job.state !== 'running' || job.awaitingStage) continue;
      const stage = job.stages[job.stages.length - 1];
      if (phaseOf(stage) === 'commit') continue;
      loseMapOutputs(stage, (map) => map.output?.workerId === workerId);
    }
    return merge(...steps);
  }
}
