// The worker side of the master's service: registration, task requests (long polls), reports of
// attempts (taken by the core's takeReport, deduplicated by attempt id), commits and heartbeats.
import { takeReport, type ReportStep } from '../core/report-step.ts';
import type { Step } from '../core/scheduler-step.ts';
import { reportReply } from '../core/task-offer.ts';
import { progressMark } from '../core/task-timeout.ts';
import { failpoint } from '../failpoints.ts';
import type * as M from '../wires/messages.ts';
import { endAttempt, settleAttempts } from './attempt-ledger.ts';
import { abortUpload } from '../storage/object-store.ts';
import { taskKey } from './task-key.ts';
import type { MasterState } from './master-state.ts';
import { carryOut } from './stage-commit.ts';
import { offer, poll, wake } from './task-offers.ts';

export async function registerWorker(state: MasterState, req: M.RegisterWorkerRequest): Promise<M.RegisterWorkerReply> {
  const given = req.hasNode ? req.node : undefined;
  await carryOut(state, state.scheduler.registerWorker(req.workerId, state.now(), given));
  const node = state.nodeTable.assign(req.workerId, given);
  if (state.workerAddresses.get(req.workerId) !== req.address) state.journal?.append({ t: 'worker', workerId: req.workerId, address: req.address });
  state.workerAddresses.set(req.workerId, req.address);
  state.goneAddresses.back(req.address);
  state.workerPids.set(req.pid, req.workerId);
  state.options.log.info('worker registered', { workerId: req.workerId, address: req.address, slots: req.slots, node });
  const { heartbeatIntervalMs, leaseMs, taskTimeoutMs } = state.timing;
  return { heartbeatIntervalMs, leaseMs, node, taskTimeoutMs };
}

/** A long poll; one the worker names (requestId) is answered once, however often it comes. */
export function requestTask(state: MasterState, req: M.TaskRequest): Promise<M.TaskReply> {
  return req.requestId ? state.memos.polls.once(`${req.workerId}/${req.requestId}`, () => poll(state, req)) : poll(state, req);
}

/** Deduplicated by attempt id: the same report again gets the same reply, the next task it carried included. */
export function reportAttempt(state: MasterState, req: M.AttemptReport): Promise<M.AttemptReportReply> {
  return state.memos.reports.once(req.attemptId, async () => {
    state.reporting.add(req.attemptId);
    try {
      return await report(state, req);
    } finally {
      state.reporting.delete(req.attemptId);
    }
  });
}

/**
 * A slot's reports of a batch, each taken as reportAttempt takes it (once by attempt id), all in
 * this turn of the event loop, so that one fsync of the journal covers their commits; then the
 * slot's next task or batch. The call is named by the worker: asked again, it gets the same reply,
 * the same next batch, never a second one.
 */
export function reportAttempts(state: MasterState, req: M.AttemptReports): Promise<M.AttemptReportsReply> {
  const take = async (): Promise<M.AttemptReportsReply> => {
    const replies = await Promise.all(req.reports.map((one) => reportAttempt(state, { ...one, wantTask: false })));
    return { accepted: replies.map((reply) => reply.accepted), next: req.wantTasks > 0 ? offer(state, req.workerId, req.wantTasks) ?? null : null };
  };
  return req.requestId ? state.memos.batchReports.once(`${req.workerId}/${req.requestId}`, take) : take();
}

async function report(state: MasterState, req: M.AttemptReport): Promise<M.AttemptReportReply> {
  // A dispatcher's report carries the figures of the server that ran the attempt, under its own id.
  if (req.stats) state.workerStats.set(req.stats.workerId || req.workerId, req.stats);
  const known = state.outcomes.get(req.attemptId);
  if (known !== undefined) {
    await state.journal?.sync(); // its commit, if it made one, is acknowledged only once on disk
    return { accepted: known, next: null };
  }
  const nowMs = state.now(); // one time for the task's end, the job's and the attempt's
  if (!req.ok && req.lostMapTasks?.length) state.options.log.warn('map outputs lost', { attemptId: req.attemptId, mapTasks: req.lostMapTasks, error: req.error });
  else if (!req.ok) state.options.log.warn('attempt failed', { attemptId: req.attemptId, error: req.error });
  const step = takeReport(state.scheduler, req, nowMs);
  // The reply that says the commit happened waits for it to be on disk (group commit: see journal.ts).
  const durable = step.committed ? journalCommit(state, step.committed, req) : undefined;
  if (step.committed) failpoint(step.committed.kind === 'map' ? 'master.map.after-commit' : 'master.reduce.after-commit');
  state.outcomes.set(req.attemptId, step.accepted);
  state.checkpoints.ended(req.attemptId);
  // A reduce's part in object storage: the committed one's is completed with its stage; another's never is.
  if (req.pendingUpload && step.committed?.kind === 'reduce') state.uploads.set(taskKey(step.committed.jobId, step.committed.stage, step.committed.index), req.pendingUpload);
  else if (req.pendingUpload) void abortUpload(req.pendingUpload);
  if (step.committed?.kind === 'map') state.checkpoints.done(taskKey(step.committed.jobId, step.committed.stage, step.committed.index));
  // The outcome is recorded before the events are carried out: a job this report ends is seen ended
  // only with this attempt's outcome in its counts.
  state.processTable.ended(req.attemptId, req.ok ? 'done' : 'failed', nowMs);
  endAttempt(state, req.attemptId, step.outcome, step.error, nowMs, req.log ?? '', req.counters ?? {});
  await carryOut(state, step);
  settleAttempts(state); // the other copies of a task this report committed
  wake(state);
  await durable;
  return reportReply(step.accepted, req.wantTask, () => offer(state, req.workerId));
}

function journalCommit(state: MasterState, attempt: NonNullable<ReportStep['committed']>, req: M.AttemptReport): Promise<void> | undefined {
  return state.journal?.append({
    t: 'task-done', jobId: attempt.jobId, stage: attempt.stage, kind: attempt.kind, index: attempt.index,
    output: attempt.kind === 'map' ? { workerId: attempt.workerId, outputId: req.outputId } : undefined,
    counters: req.counters ?? {}, durationMs: state.now() - attempt.startedMs,
    ...(attempt.kind === 'map' ? { partitionBytes: req.partitionBytes ?? [], partitionRecords: req.partitionRecords ?? [] } : {}),
    ...(req.pendingUpload ? { upload: req.pendingUpload } : {}),
  }, true);
}

export async function commitAttempt(state: MasterState, req: M.CommitRequest): Promise<M.CommitReply> {
  return { allowed: state.scheduler.mayCommit(req.attemptId) };
}

export async function heartbeat(state: MasterState, req: M.HeartbeatRequest): Promise<M.HeartbeatReply> {
  const { scheduler } = state;
  // From the worker's liveness thread while one call of a job function holds its event loop:
  // it renews the worker and its attempts' leases only; cancels wait for the worker's own heartbeat.
  if (req.busy) {
    const step = scheduler.heartbeat(req.workerId, req.runningAttempts, state.now());
    await carryOut(state, step); // its cancels wait for the worker's own heartbeat
    return { cancelAttempts: [], reregister: mustRegister(step), pausedAttempts: [], goneWorkers: [] };
  }
  if (req.stats) {
    state.workerStats.set(req.workerId, req.stats);
    state.processTable.sample(req.workerId, req.stats);
  }
  const figures = new Map((req.progress ?? []).map(({ attemptId, progressUnknown, ...f }) => [attemptId, { ...f, progressUnknown }]));
  state.attemptFigures.set(req.workerId, figures);
  const now = state.now();
  noteCheckpoints(state, req.progress ?? []);
  for (const id of req.runningAttempts) {
    // A paused attempt, or one whose progress its worker cannot see, is not timed out.
    // Nor is one that waits its turn in a batch: it has not started.
    const held = state.stopped.has(id) || !!figures.get(id)?.progressUnknown || !!figures.get(id)?.queued;
    scheduler.noteProgress(id, progressMark(figures.get(id)), held, now);
  }
  if (req.runningAttempts.some((id) => scheduler.attempt(id)?.kind === 'reduce')) failpoint('master.shuffle.reduce-running');
  const step = scheduler.heartbeat(req.workerId, req.runningAttempts, state.now());
  await carryOut(state, step);
  const reregister = mustRegister(step);
  return {
    cancelAttempts: [...step.cancels], reregister, pausedAttempts: reregister ? [] : req.runningAttempts.filter((id) => state.stopped.has(id)),
    goneWorkers: state.goneAddresses.list(now),
  };
}

/** The map checkpoints a heartbeat brings: the master's book, and the process table (ssi: the agreed state). */
function noteCheckpoints(state: MasterState, progress: readonly M.AttemptProgress[]): void {
  for (const { attemptId, checkpoint } of progress) {
    const attempt = checkpoint ? state.scheduler.attempt(attemptId) : undefined;
    if (!checkpoint || !attempt || attempt.kind !== 'map') continue;
    if (state.checkpoints.note(attemptId, taskKey(attempt.jobId, attempt.stage, attempt.index), checkpoint)) state.processTable.checkpointed(attemptId, checkpoint);
  }
}

/** The scheduler does not know the worker alive (given up for dead, or from before a restart). */
function mustRegister(step: Step): boolean {
  return step.events.some((event) => event.type === 'worker-unknown');
}

/**
 * The workers of these nodes are alive, their thread held by a long call of a job function (its
 * host sees the thread's loop stand still): their leases are renewed as by a busy heartbeat.
 */
export function nodesBusy(state: MasterState, nodes: readonly number[]): void {
  const now = state.now();
  for (const worker of state.scheduler.workers.values()) {
    // Renews only: its own attempts are all it lists, so there is nothing to cancel or carry out.
    if (worker.alive && worker.node !== undefined && nodes.includes(worker.node)) state.scheduler.heartbeat(worker.id, state.scheduler.attemptsOn(worker.id), now);
  }
}
