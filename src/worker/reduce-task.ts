// A reduce attempt: fetch partition r of every map output (shuffle-fetch.ts), k-way merge them from disk, call
// reduce per key (or fold them as bytes, for a built-in aggregation: byte-reduce.ts), write
// part-r-NNNNN under a temporary name and rename it once allowed to commit.
import { isObjectUrl, objectIn, uploadPending } from '../storage/object-store.ts';
import { thrownByUser } from './user-frame.ts';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { COUNTER, type Counters } from '../core/counters.ts';
import type { JobDefinition, JobOptions } from '../core/job.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { compareKeys } from '../core/key-order.ts';
import { groupSorted, mergeSorted } from '../core/kway-merge.ts';
import { RecordError, formatRecord, partFileName, showKey } from '../core/record-codec.ts';
import { TaskError } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { JobSpec, MapOutput, PendingUpload } from '../wires/messages.ts';
import { mergeBatchBytes, sourceOf, type RunRef } from '../storage/run-file.ts';
import { TextWriter } from '../storage/text-writer.ts';
import { EventLoopTurns } from './event-loop-turns.ts';
import { bumpProgress } from './stall-watchdog.ts';
import { isPaused, pausePoint } from './pause-gate.ts';
import { byKey } from './run-merge.ts';
import type { AttemptResult } from './map-task.ts';
import { aggregationOf, reduceAsBytes } from './byte-reduce.ts';
import { fetchRuns, type FetchIo } from './shuffle-fetch.ts';

export interface ReduceAttempt {
  attemptId: string;
  spec: JobSpec;
  partition: number;
  mapOutputs: MapOutput[];
}

export interface ReduceIo extends FetchIo {
  scratchDir: string;
  commit(attemptId: string): Promise<boolean>;
}

export async function runReduceTask(
  job: JobDefinition, attempt: ReduceAttempt, io: ReduceIo, signal: AbortSignal, progress: AttemptFigures = {},
): Promise<AttemptResult> {
  const counters: Counters = {};
  // Names of this run's own: the horizontal backend may run one attempt on two servers at once.
  const run = `${attempt.attemptId}.${randomBytes(3).toString('hex')}`;
  const scratch = join(io.scratchDir, run);
  await mkdir(scratch, { recursive: true });
  try {
    let started = performance.now();
    const lap = (counter: string): void => {
      const now = performance.now();
      counters[counter] = Math.round(now - started);
      started = now;
    };
    const runs = await fetchRuns(attempt, io, scratch, counters, signal, progress);
    lap(COUNTER.shuffleMs);
    // In object storage there is no rename: the part is written here, then uploaded and left for
    // the master to complete (see PendingUpload in the proto).
    const inStore = isObjectUrl(attempt.spec.outputDir);
    const target = inStore ? objectIn(attempt.spec.outputDir, partFileName(attempt.partition)) : join(attempt.spec.outputDir, partFileName(attempt.partition));
    const temp = inStore ? join(scratch, `${partFileName(attempt.partition)}.tmp`) : join(attempt.spec.outputDir, `.${partFileName(attempt.partition)}.${run}.tmp`);
    let pendingUpload: PendingUpload | undefined;
    try {
      await reduceInto(job, runs, temp, counters, attempt.spec.options ?? {}, signal, progress, attempt.partition);
      lap(COUNTER.reduceMs);
      if (signal.aborted) throw new TaskError(`attempt ${attempt.attemptId} was cancelled`);
      failpoint('worker.reduce.before-commit');
      if (!(await io.commit(attempt.attemptId))) throw new TaskError(`attempt ${attempt.attemptId} may not commit: another attempt did, or the job ended`);
      failpoint('worker.reduce.before-rename');
      if (inStore) pendingUpload = await uploadPending(target, temp);
      else await rename(temp, target);
      lap(COUNTER.commitMs);
    } finally {
      await rm(temp, { force: true });
    }
    return { outputId: '', counters, partitionBytes: [], ...(pendingUpload ? { pendingUpload } : {}) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function reduceInto(
  job: JobDefinition, runs: RunRef[], path: string, counters: Counters, options: JobOptions, signal: AbortSignal, progress: AttemptFigures,
  partition: number,
): Promise<void> {
  const out = await TextWriter.create(path);
  const own = new OwnRecords();
  const ctx = { options, emit: (key: string, value: unknown) => own.add(key, value) };
  let groups = 0;
  let records = 0;
  const turns = new EventLoopTurns();
  try {
    const aggregation = aggregationOf(job);
    if (aggregation !== undefined) {
      const between = async (): Promise<void> => {
        if (turns.due()) await turns.turn();
        await pausePoint(signal);
        if (signal.aborted) throw new TaskError('the attempt was cancelled');
      };
      const reduced = await reduceAsBytes(aggregation, runs, out, progress, between);
      if (reduced !== undefined) {
        counters[COUNTER.reduceInputGroups] = reduced.groups;
        counters[COUNTER.reduceOutputRecords] = reduced.groups;
        return;
      }
    }
    const batchBytes = mergeBatchBytes(runs.length);
    await groupSorted(mergeSorted(runs.map((run) => sourceOf(run, batchBytes)), byKey), (key, values) => {
      if (groups++ === 0) failpoint('worker.reduce.after-first-key');
      let result: unknown;
      try {
        result = job.reduce(key, values, ctx);
      } catch (error) {
        // A reducer's values come from every map, merged: the partition is what names its input.
        throw new TaskError(`reduce threw on key ${showKey(key)} in reduce partition ${partition}: ${thrownByUser(error)}`);
      }
      const lines = own.take();
      records += lines === undefined ? 1 : own.count;
      progress.records = (progress.records ?? 0) + 1; // a key reduced: the task timeout's measure
      bumpProgress();
      const written = out.write(lines ?? outputLine(key, result));
      if (isPaused(signal)) return Promise.resolve(written).then(() => pausePoint(signal));
      return turns.due() ? Promise.resolve(written).then(() => turns.turn()) : written;
    });
  } finally {
    counters[COUNTER.reduceOutputBytes] = await out.close(true);
  }
  counters[COUNTER.reduceInputGroups] = groups;
  counters[COUNTER.reduceOutputRecords] = records;
}

/** A returned value as its output line; a value that cannot be written fails the attempt, naming the key. */
function outputLine(key: string, value: unknown): string {
  try {
    return formatRecord(key, value);
  } catch (error) {
    throw error instanceof RecordError ? new TaskError(`reduce output: ${error.message}`) : error;
  }
}

/** Records a reduce wrote itself with ctx.emit, checked to stay in increasing byte order. */
class OwnRecords {
  private lines: string[] = [];
  private last: string | undefined;
  count = 0;

  add(key: string, value: unknown): void {
    if (typeof key !== 'string') throw new TypeError(`emit: the key must be a string, got ${typeof key}`);
    if (this.last !== undefined && compareKeys(key, this.last) <= 0) {
      throw new TypeError(`emit: key ${JSON.stringify(key)} does not come after ${JSON.stringify(this.last)}; a reducer's keys must increase`);
    }
    this.last = key;
    this.lines.push(formatRecord(key, value));
  }

  /** The lines emitted since the last take, or undefined when the reduce emitted none. */
  take(): string | undefined {
    if (this.lines.length === 0) return undefined;
    const text = this.lines.join('');
    this.count = this.lines.length;
    this.lines = [];
    return text;
  }
}
