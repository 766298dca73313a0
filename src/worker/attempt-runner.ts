// One attempt from task to report: load the job, run the map or reduce with what it needs,
// capture what the job printed, and turn the outcome into the report the master wants. Shared
// by the worker daemon (which pulls tasks) and the stateless task server (which is sent them).
import type * as M from '../wires/messages.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { RecordError } from '../core/record-codec.ts';
import { FetchFailedError, TaskError, oneLine } from '../errors.ts';
import { withAttemptConsole } from './attempt-console.ts';
import { loadSubmittedJob } from './job-loader.ts';
import type { JobDefinition, TaskContext } from '../core/job.ts';
import { inputName, runMapTask, type AttemptResult } from './map-task.ts';
import { runReduceTask, type ReduceIo } from './reduce-task.ts';
import type { CheckpointIo } from './map-checkpoint.ts';

/**
 * What an attempt reads and writes through: the map output store, the shuffle, the commit, where
 * map checkpoints go; ssi: cluster-wide locks (held under the node's etcd lease).
 */
export type AttemptIo = ReduceIo & { lock?: (name: string) => Promise<() => Promise<void>>; checkpoints?: CheckpointIo };

/** The report of one attempt, but for what its sender adds: who sends it, its process figures, whether its slot is free, its own death. */
export type AttemptOutcome = Omit<M.AttemptReport, 'workerId' | 'stats' | 'wantTask' | 'ownDeath'>;

/** progress: filled in as the attempt goes, for the worker's heartbeats (the job status's partial credit). */
export async function runAttempt(task: M.Task, io: AttemptIo, signal: AbortSignal, progress: AttemptFigures = {}): Promise<AttemptOutcome> {
  const { value: result, error, log } = await withAttemptConsole(() => execute(task, io, signal, progress));
  if (result) return { attemptId: task.attemptId, ok: true, error: '', log, lostMapTasks: [], partitionRecords: [], pendingUpload: null, ...result };
  return failedOutcome(task.attemptId, oneLine(error), log, error instanceof FetchFailedError ? error.mapTasks : []);
}

/** The outcome of an attempt that failed with `error`, having produced nothing. */
export function failedOutcome(attemptId: string, error: string, log = '', lostMapTasks: number[] = []): AttemptOutcome {
  return { attemptId, ok: false, error, log, outputId: '', counters: {}, partitionBytes: [], lostMapTasks, partitionRecords: [], pendingUpload: null };
}

async function execute(task: M.Task, io: AttemptIo, signal: AbortSignal, progress: AttemptFigures): Promise<AttemptResult> {
  const { spec } = task;
  if (!spec) throw new TaskError(`task ${task.attemptId} came without its job's spec`);
  const job = await loadSubmittedJob(spec.jobPath, spec.jobHash, `${task.jobId}/${task.stage}`);
  if (!job.setup && !job.cleanup) return runTask(job, task, spec, io, signal, progress);
  // Locks the attempt still holds when it ends are released then, however it ends.
  const held = new Set<() => Promise<void>>();
  const ctx: TaskContext = {
    kind: task.kind === 'map' ? 'map' : 'reduce', index: task.taskIndex, attemptId: task.attemptId, options: spec.options ?? {},
    async lock(name) {
      if (!io.lock) throw new TaskError(`ctx.lock('${name}'): cluster-wide locks live in etcd, with --transport ssi only`);
      const release = await io.lock(name);
      const once = async (): Promise<void> => {
        if (held.delete(once)) await release();
      };
      held.add(once);
      return once;
    },
  };
  let outcome: { result: AttemptResult } | { error: unknown };
  try {
    await job.setup?.(ctx);
    outcome = { result: await runTask(job, task, spec, io, signal, progress) };
  } catch (error) {
    outcome = { error };
  }
  try {
    await job.cleanup?.(ctx);
  } catch (error) {
    if ('result' in outcome) outcome = { error };   // a failed cleanup fails the attempt; it never hides why the attempt failed
  } finally {
    await Promise.all([...held].map((release) => release().catch(() => undefined)));
  }
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}

function runTask(job: JobDefinition, task: M.Task, spec: M.JobSpec, io: AttemptIo, signal: AbortSignal, progress: AttemptFigures): Promise<AttemptResult> {
  if (task.kind === 'map') {
    const { splits } = task;
    if (splits.length === 0) throw new TaskError(`map task ${task.attemptId} came without its input`);
    return runMapTask(job, { attemptId: task.attemptId, spec, splits, resume: task.resume }, io.store, signal, progress, io.checkpoints).catch((error: unknown) => {
      // a value that JSON cannot carry: the message names the key, this adds the input
      throw error instanceof RecordError ? new TaskError(`map on input ${inputName(splits)}: ${error.message}`) : error;
    });
  }
  return runReduceTask(job, { attemptId: task.attemptId, spec, partition: task.taskIndex, mapOutputs: task.mapOutputs }, io, signal, progress);
}
