// The job side of the master's service: submitting (checked, claimed, journaled), status, lists,
// logs and kills. A submission that comes twice is taken once.
import { isObjectUrl } from '../storage/object-store.ts';
import { randomUUID } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { isFinished } from '../core/scheduler-records.ts';
import type { StageRecord } from '../core/task-table.ts';
import { stageProgress, type AttemptFigures, type StageProgress } from '../core/progress.ts';
import { OutputExistsError, UsageError } from '../errors.ts';
import { processStats } from '../process-stats.ts';
import { claimOutputDir } from '../storage/output-dir.ts';
import type * as M from '../wires/messages.ts';
import { settleAttempts } from './attempt-ledger.ts';
import { jobStatus, type WorkerBase } from './job-status.ts';
import type { MasterState } from './master-state.ts';
import { carryOut, prepareStage } from './stage-commit.ts';
import { wake } from './task-offers.ts';

export function submitJob(state: MasterState, req: M.SubmitJobRequest): Promise<M.SubmitJobReply> {
  const jobId = req.jobId || randomUUID();
  return state.memos.submissions.once(jobId, () => startJob(state, jobId, req));
}

async function startJob(state: MasterState, jobId: string, req: M.SubmitJobRequest): Promise<M.SubmitJobReply> {
  if (state.specs.has(jobId)) return { jobId };
  if (req.stages.length === 0) throw new UsageError('a job needs at least one stage');
  req.stages.forEach((spec, i) => checkSpec(spec, i + 1));
  const writer = jobWritingTo(state, req.stages[0].outputDir);
  if (writer) throw new OutputExistsError(`output directory ${req.stages[0].outputDir} is being written by job ${writer}; give --output another directory`);
  // Atomic across processes and masters: of two jobs given one output, one is refused here.
  const claim = await claimOutputDir(req.stages[0].outputDir, jobId);
  state.claims.set(jobId, claim);
  state.specs.set(jobId, req.stages);
  const journaled = state.journal?.append({ t: 'job', jobId, stages: req.stages }, true);
  state.scheduler.addJob(jobId, req.stages.length, req.stages[0].maxAttempts || 4, state.now(), req.stages[0].speculation);
  await prepareStage(state, jobId, req.stages[0].inputFiles);
  wake(state);
  await journaled; // the submission is acknowledged once it is on disk
  state.options.log.info('job submitted', { jobId, stages: req.stages.length });
  return { jobId };
}

/** The unfinished job that writes to dir, if any: its output directory may still be empty. */
function jobWritingTo(state: MasterState, dir: string): string | undefined {
  for (const [jobId, stages] of state.specs) {
    const job = state.scheduler.jobs.get(jobId);
    if (job && !isFinished(job.state) && stages[0].outputDir === dir) return jobId;
  }
  return undefined;
}

export async function getJobStatus(state: MasterState, req: M.JobStatusRequest): Promise<M.JobStatus> {
  const job = state.scheduler.jobs.get(req.jobId);
  if (!job) throw new UsageError(`no job ${req.jobId} on this master`);
  settleAttempts(state);
  const processes = [processStats('master', '', state.options.chaosCounts?.()), ...state.workerStats.values()];
  return jobStatus(
    job, state.specs.get(req.jobId) ?? [], state.files.get(req.jobId) ?? [], processes, workerBases(state), state.now(),
    state.history.logs(req.jobId), (stage) => progressOf(state, req.jobId, stage),
  );
}

/** The stage's progress, never below what any status reply showed before. */
function progressOf(state: MasterState, jobId: string, stage: StageRecord): StageProgress {
  const key = `${jobId}/${stage.stage}`;
  const figures = (attemptId: string): AttemptFigures | undefined => {
    const workerId = state.scheduler.attempt(attemptId)?.workerId;
    return workerId === undefined ? undefined : state.attemptFigures.get(workerId)?.get(attemptId);
  };
  const progress = stageProgress(stage, figures, state.shownProgress.get(key));
  state.shownProgress.set(key, progress);
  return progress;
}

/** The workers, without figures: each job's status counts its own attempts on them. */
function workerBases(state: MasterState): WorkerBase[] {
  const now = state.now();
  return [...state.scheduler.workers.values()].map((worker) => ({
    workerId: worker.id,
    address: state.workerAddresses.get(worker.id) ?? '',
    alive: worker.alive,
    heartbeatAgeMs: now - worker.lastSeenMs,
  }));
}

/** Newest first, as every view of the jobs shows them (mr list, mr status, the page). */
export async function listJobs(state: MasterState): Promise<M.ListJobsReply> {
  const jobs = [...state.scheduler.jobs.keys()].reverse();
  return { jobs: await Promise.all(jobs.map((jobId) => getJobStatus(state, { jobId }))) };
}

export async function getJobLogs(state: MasterState, req: M.JobLogsRequest): Promise<M.JobLogsReply> {
  if (!state.scheduler.jobs.has(req.jobId)) throw new UsageError(`no job ${req.jobId} on this master`);
  settleAttempts(state);
  return { attempts: state.history.logs(req.jobId, req.task) };
}

export async function killJob(state: MasterState, req: M.KillJobRequest): Promise<M.KillJobReply> {
  const step = state.scheduler.kill(req.jobId, state.now());
  await carryOut(state, step);
  return { killed: step.events.some((event) => event.type === 'job-killed') };
}

const MAX_REDUCERS = 100_000;
/** The job modules workers load (the master loads none); the name's end only, the file is the workers' to find. */
const JOB_FILE = /\.(ts|mts|js|mjs)$/;

/** A submitted stage must make sense before anything is started for it (clients may be other programs). */
function checkSpec(spec: M.JobSpec, stage: number): void {
  const problem =
    !isAbsolute(spec.jobPath) ? 'the job path is not absolute (a job is a module file on the workers, never code or a URL)'
      : !JOB_FILE.test(spec.jobPath) ? 'the job path does not name a .ts, .mts, .js or .mjs file'
      : !isAbsolute(spec.outputDir) && !isObjectUrl(spec.outputDir) ? 'the output directory is neither absolute nor an s3:// URL'
        : stage === 1 && spec.inputFiles.length === 0 ? 'there are no input files'
          : spec.inputFiles.some((file) => !isAbsolute(file) && !isObjectUrl(file)) ? 'an input path is neither absolute nor an s3:// URL'
            : !(Number.isInteger(spec.reducers) && spec.reducers >= 1 && spec.reducers <= MAX_REDUCERS) ? `reducers must be 1 to ${MAX_REDUCERS}, got ${spec.reducers}`
              : !['lines', 'file', 'records'].includes(spec.inputMode) ? `unknown input mode ${spec.inputMode}`
                : undefined;
  if (problem) throw new UsageError(`stage ${stage}: ${problem}`);
}
