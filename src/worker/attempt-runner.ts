// One attempt from task to report: load the job, run the map or reduce with what it needs,
// capture what the job printed, and turn the outcome into the report the master wants. Shared
// by the worker daemon (which pulls tasks) and the stateless task server (which is sent them).
import type * as M from '../wires/messages.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { RecordError } from '../core/record-codec.ts';
import { FetchFailedError, TaskError, oneLine } from '../errors.ts';
import { withAttemptConsole } from './attempt-console.ts';
import { loadSubmittedJob } from './job-loader.ts';
import { inputName, runMapTask, type AttemptResult } from './map-task.ts';
import { runReduceTask, type ReduceIo } from './reduce-task.ts';

/** What an attempt reads and writes through: the map output store, the shuffle, the commit. */
export type AttemptIo = ReduceIo;

/** The report of one attempt, but for what its sender adds: who sends it, its process figures, whether its slot is free, its own death. */
export type AttemptOutcome = Omit<M.AttemptReport, 'workerId' | 'stats' | 'wantTask' | 'ownDeath'>;

/** progress: filled in as the attempt goes, for the worker's heartbeats (the job status's partial credit). */
export async function runAttempt(task: M.Task, io: AttemptIo, signal: AbortSignal, progress: AttemptFigures = {}): Promise<AttemptOutcome> {
  const { value: result, error, log } = await withAttemptConsole(() => execute(task, io, signal, progress));
  if (result) return { attemptId: task.attemptId, ok: true, error: '', log, lostMapTasks: [], partitionRecords: [], ...result };
  return failedOutcome(task.attemptId, oneLine(error), log, error instanceof FetchFailedError ? error.mapTasks : []);
}

/** The outcome of an attempt that failed with `error`, having produced nothing. */
export function failedOutcome(attemptId: string, error: string, log = '', lostMapTasks: number[] = []): AttemptOutcome {
  return { attemptId, ok: false, error, log, outputId: '', counters: {}, partitionBytes: [], lostMapTasks, partitionRecords: [] };
}

async function execute(task: M.Task, io: AttemptIo, signal: AbortSignal, progress: AttemptFigures): Promise<AttemptResult> {
  const { spec } = task;
  if (!spec) throw new TaskError(`task ${task.attemptId} came without its job's spec`);
  const job = await loadSubmittedJob(spec.jobPath, spec.jobHash, `${task.jobId}/${task.stage}`);
  if (task.kind === 'map') {
    const { splits } = task;
    if (splits.length === 0) throw new TaskError(`map task ${task.attemptId} came without its input`);
    return runMapTask(job, { attemptId: task.attemptId, spec, splits }, io.store, signal, progress).catch((error: unknown) => {
      // a value that JSON cannot carry: the message names the key, this adds the input
      throw error instanceof RecordError ? new TaskError(`map on input ${inputName(splits)}: ${error.message}`) : error;
    });
  }
  return runReduceTask(job, { attemptId: task.attemptId, spec, partition: task.taskIndex, mapOutputs: task.mapOutputs }, io, signal, progress);
}
