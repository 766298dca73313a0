// A stage's life at the master, around the scheduler's decisions: started over the splits of its
// inputs, committed once every reduce is in (_SUCCESS, a chain's output published, its output
// claim ended), cleared when its job fails or is killed. Also what carries out the scheduler's steps.
import { autoPackedSplits, autoSplitBytes, computeSplits, packSplits } from '../core/splits.ts';
import { isFinished, type SchedulerEvent } from '../core/scheduler-records.ts';
import type { Step } from '../core/scheduler-step.ts';
import { oneLine } from '../errors.ts';
import { endClaim, reclaimOutputDir, releaseOutputDir } from '../storage/output-dir.ts';
import type * as M from '../wires/messages.ts';
import { attemptFailed, attemptMoved, attemptStarted, endAttempt, jobEnded } from './attempt-ledger.ts';
import { isOfJob, taskKey } from './task-key.ts';
import type { MasterState } from './master-state.ts';
import { abortUpload } from '../storage/object-store.ts';
import { clearStageOutput, commitStage, ensureDir, publishChainOutput, stageDir, statInputs } from './stage-output.ts';

/**
 * Carries out one step of the scheduler, the one place that does: records the attempts it started
 * (nowMs: when), ended or moved, ends the jobs it failed or killed, and commits the stages it
 * finished. Its cancels and a worker-unknown travel in the reply to that worker's heartbeat.
 * Everything is recorded before anything is awaited: an offered task is on record when it is
 * handed out, and the attempts the master failed itself have their outcome at once (see the tick).
 */
export function carryOut(state: MasterState, step: Step, nowMs = state.now()): Promise<void> {
  for (const assignment of step.assignments) attemptStarted(state, assignment, nowMs);
  for (const event of step.events) {
    if (event.type === 'attempt-timed-out') attemptFailed(state, event.attemptId, event.error);
    if (event.type === 'attempt-lost') endAttempt(state, event.attemptId, 'lost', event.error);
    if (event.type === 'attempt-moved') attemptMoved(state, event.attemptId, event.workerId);
    if (event.type === 'worker-lost') {
      const address = state.workerAddresses.get(event.workerId);
      if (address) state.goneAddresses.gone(address, nowMs);
    }
    // A map that moved or was lost resumes from its latest checkpoint, wherever it runs next.
    if (event.type === 'attempt-lost' || event.type === 'attempt-moved') state.checkpoints.lost(event.attemptId);
  }
  return endJobsAndStages(state, step.events);
}

async function endJobsAndStages(state: MasterState, events: readonly SchedulerEvent[]): Promise<void> {
  for (const event of events) {
    if (event.type === 'job-failed' || event.type === 'job-killed') await endJob(state, event);
    if (event.type === 'stage-reduced') await finishStage(state, event.jobId, event.stage);
  }
}

/** A failed or killed job: journaled, its current stage cleared, its attempts ended. */
async function endJob(state: MasterState, event: Extract<SchedulerEvent, { type: 'job-failed' | 'job-killed' }>): Promise<void> {
  const { jobId } = event;
  if (event.type === 'job-failed') {
    state.options.log.warn('job failed', { jobId, error: event.error });
    await state.journal?.append({ t: 'job-end', jobId, state: 'failed', error: event.error }, true);
  } else {
    await state.journal?.append({ t: 'job-end', jobId, state: 'killed' }, true);
  }
  await clearCurrentStage(state, jobId);
  jobEnded(state, jobId);
}

/** Computes the splits of the job's next stage and starts it; the caller wakes the waiting workers. */
export async function prepareStage(state: MasterState, jobId: string, inputs: readonly string[]): Promise<void> {
  const job = state.scheduler.jobs.get(jobId);
  const specs = state.specs.get(jobId);
  if (!job || !specs || isFinished(job.state)) return;
  const spec = specs[job.stages.length];
  try {
    await ensureDir(stageDir(spec.outputDir, job.stages.length + 1, specs.length));
    const files = await statInputs(inputs);
    const total = files.reduce((sum, file) => sum + file.sizeBytes, 0);
    const parallelism = spec.parallelism || liveWorkers(state);
    const splitBytes = spec.splitBytes || autoSplitBytes(total, parallelism);
    const cut = computeSplits(files, splitBytes, spec.inputMode === 'file');
    const splits = spec.noPacking ? cut.map((split) => [split]) : packSplits(cut, splitBytes, autoPackedSplits(cut.length, parallelism));
    // Not awaited: the stage's tasks may go out meanwhile, since a commit of one is acknowledged only
    // once it is on disk, and an fsync covers every record written before it.
    state.journal?.append({ t: 'stage-start', jobId, stage: job.stages.length + 1, splits, reducers: spec.reducers }, true).catch(() => {});
    state.scheduler.startStage(jobId, splits, spec.reducers, state.now());
  } catch (error) {
    await carryOut(state, state.scheduler.failJob(jobId, `cannot start stage ${job.stages.length + 1}: ${oneLine(error)}`, state.now()));
  }
}

/** Every reduce of the stage is in: _SUCCESS, then the next stage, or the job's end. */
export async function finishStage(state: MasterState, jobId: string, stage: number): Promise<void> {
  const specs = state.specs.get(jobId) as M.JobSpec[];
  const spec = specs[stage - 1];
  try {
    const files = await commitStage(stageDir(spec.outputDir, stage, specs.length), spec.reducers, (r) => state.uploads.get(taskKey(jobId, stage, r)));
    for (let r = 0; r < spec.reducers; r++) state.uploads.delete(taskKey(jobId, stage, r));
    await state.journal?.append({ t: 'stage-done', jobId, stage, files }, true);
    if (stage === specs.length) await publishJob(state, jobId, specs, files);
    state.scheduler.completeStage(jobId, state.now());
    if (stage === specs.length) jobEnded(state, jobId);
    if (stage < specs.length) await prepareStage(state, jobId, files);
  } catch (error) {
    await carryOut(state, state.scheduler.failJob(jobId, `cannot commit stage ${stage}: ${oneLine(error)}`, state.now()));
  }
}

/** The last stage is committed: a chain's output goes to the top, and the job's claim on its output ends. */
async function publishJob(state: MasterState, jobId: string, specs: M.JobSpec[], files: string[]): Promise<void> {
  const last = specs[specs.length - 1];
  state.files.set(jobId, specs.length > 1 ? await publishChainOutput(last.outputDir, files) : files);
  await state.journal?.append({ t: 'job-end', jobId, state: 'succeeded' }, true);
  const claim = state.claims.get(jobId);
  if (claim) endClaim(claim);
  state.claims.delete(jobId);
}

/** A failed or killed job's current stage loses what it wrote, if the job owns its output. */
async function clearCurrentStage(state: MasterState, jobId: string): Promise<void> {
  const job = state.scheduler.jobs.get(jobId);
  const specs = state.specs.get(jobId);
  const claim = state.claims.get(jobId);
  if (!job || !specs || !claim) return;
  state.claims.delete(jobId);
  const stage = Math.max(1, job.stages.length);
  await clearStageOutput(stageDir(specs[0].outputDir, stage, specs.length));
  // Parts uploaded to object storage and never completed: dropped where the store can (they are invisible anyway).
  for (const [key, pending] of state.uploads) {
    if (!isOfJob(key, jobId)) continue;
    state.uploads.delete(key);
    void abortUpload(pending);
  }
  releaseOutputDir(claim); // what it leaves is an attempt's still being written
}

/**
 * A resumed job claims its output again (the claim of this master's previous process is stale
 * now). One that another run took meanwhile fails, and nothing in that output is touched.
 */
export async function reclaimOutputs(state: MasterState): Promise<void> {
  for (const [jobId, job] of state.scheduler.jobs) {
    const specs = state.specs.get(jobId);
    if (isFinished(job.state) || !specs) continue;
    try {
      state.claims.set(jobId, await reclaimOutputDir(specs[0].outputDir, jobId));
    } catch (error) {
      await carryOut(state, state.scheduler.failJob(jobId, `cannot resume: ${oneLine(error)}`, state.now()));
    }
  }
}

function liveWorkers(state: MasterState): number {
  let alive = 0;
  for (const worker of state.scheduler.workers.values()) if (worker.alive) alive++;
  return alive;
}
