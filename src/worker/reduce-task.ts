// A reduce attempt: fetch partition r of every map output, k-way merge them from disk, call
// reduce per key (or fold them as bytes, for a built-in aggregation: byte-reduce.ts), write
// part-r-NNNNN under a temporary name and rename it once allowed to commit.
import { thrownByUser } from './user-frame.ts';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { COUNTER, type Counters } from '../core/counters.ts';
import type { JobDefinition, JobOptions } from '../core/job.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { compareKeys } from '../core/key-order.ts';
import { groupSorted, mergeSorted } from '../core/kway-merge.ts';
import { RecordError, formatRecord, partFileName, showKey } from '../core/record-codec.ts';
import { FetchFailedError, TaskError, oneLine } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { JobSpec, MapOutput } from '../wires/messages.ts';
import { mergeBatchBytes, sourceOf, type RunRef } from '../storage/run-file.ts';
import { TextWriter } from '../storage/text-writer.ts';
import type { MapOutputStore } from '../storage/map-output-store.ts';
import { EventLoopTurns } from './event-loop-turns.ts';
import { bumpProgress } from './stall-watchdog.ts';
import { isPaused, pausePoint } from './pause-gate.ts';
import { byKey } from './run-merge.ts';
import type { AttemptResult } from './map-task.ts';
import { aggregationOf, reduceAsBytes } from './byte-reduce.ts';

export interface ReduceAttempt {
  attemptId: string;
  spec: JobSpec;
  partition: number;
  mapOutputs: MapOutput[];
}

export interface ReduceIo {
  store: MapOutputStore;                 // this worker's own map outputs, read without the network
  scratchDir: string;
  fetch(output: MapOutput, partition: number): AsyncIterable<Buffer>;
  commit(attemptId: string): Promise<boolean>;
}

const FETCH_CONCURRENCY = 8;
const FETCHED_RUN_IN_MEMORY_BYTES = 1 << 20;     // a fetched run up to this size stays in memory ...
const FETCHED_IN_MEMORY_BYTES = 64 << 20;        // ... while an attempt's runs in memory stay under this
const FETCH_RETRY_DELAYS_MS = [200, 1000];

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
    const target = join(attempt.spec.outputDir, partFileName(attempt.partition));
    const temp = join(attempt.spec.outputDir, `.${partFileName(attempt.partition)}.${run}.tmp`);
    try {
      await reduceInto(job, runs, temp, counters, attempt.spec.options ?? {}, signal, progress, attempt.partition);
      lap(COUNTER.reduceMs);
      if (signal.aborted) throw new TaskError(`attempt ${attempt.attemptId} was cancelled`);
      failpoint('worker.reduce.before-commit');
      if (!(await io.commit(attempt.attemptId))) throw new TaskError(`attempt ${attempt.attemptId} may not commit: another attempt did, or the job ended`);
      failpoint('worker.reduce.before-rename');
      await rename(temp, target);
      lap(COUNTER.commitMs);
    } finally {
      await rm(temp, { force: true });
    }
    return { outputId: '', counters, partitionBytes: [] };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Gets partition r of each map output: what this worker can read where it lies, or fetched into a file. */
async function fetchRuns(
  attempt: ReduceAttempt, io: ReduceIo, scratch: string, counters: Counters, signal: AbortSignal, progress: AttemptFigures,
): Promise<RunRef[]> {
  const limit = pLimit(FETCH_CONCURRENCY);
  const memory = { leftBytes: FETCHED_IN_MEMORY_BYTES };
  let shuffled = 0;
  progress.outputsFetched = 0;
  const fetched = (run: RunRef): RunRef => {
    progress.outputsFetched = (progress.outputsFetched ?? 0) + 1;
    bumpProgress();
    if (attempt.mapOutputs.length > 1) failpoint('worker.shuffle.after-first-run');
    return run;
  };
  const results = await Promise.allSettled(attempt.mapOutputs.map((output) => limit(async () => {
    await pausePoint(signal);
    if (signal.aborted) throw new TaskError(`attempt ${attempt.attemptId} was cancelled`);
    const local = await io.store.localRun(output.outputId, attempt.partition);
    if (local !== undefined) return fetched(local);
    const path = join(scratch, `m-${output.mapTask}`);
    const { run, bytes } = await fetchWithRetries(() => download(io.fetch(output, attempt.partition), path, memory, progress), signal);
    shuffled += bytes;
    return fetched(run);
  })));
  const lost = attempt.mapOutputs.filter((_, i) => results[i].status === 'rejected');
  if (lost.length > 0) {
    if (signal.aborted) throw new TaskError(`attempt ${attempt.attemptId} was cancelled`);
    const first = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    throw new FetchFailedError(
      `cannot fetch map output ${lost.map((o) => o.mapTask).join(', ')} (from ${lost[0].path || lost[0].workerAddress}): ${oneLine(first.reason)}`,
      lost.map((o) => o.mapTask),
    );
  }
  counters[COUNTER.shuffleBytes] = shuffled;
  return results.map((r) => (r as PromiseFulfilledResult<RunRef>).value);
}

/** A fetch is idempotent (it rewrites the whole file), so it is retried before giving up. */
async function fetchWithRetries<T>(fetch: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch();
    } catch (error) {
      if (attempt >= FETCH_RETRY_DELAYS_MS.length || signal.aborted) throw error;
      await new Promise((resolve) => setTimeout(resolve, FETCH_RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * Fetches one run: kept in memory while it is small and the attempt's memory allowance lasts
 * (thousands of tiny map outputs must not cost a file each), else written to path.
 */
async function download(
  chunks: AsyncIterable<Buffer>, path: string, memory: { leftBytes: number }, progress: AttemptFigures,
): Promise<{ run: RunRef; bytes: number }> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let bytes = 0;
  let file: FileHandle | undefined;
  try {
    for await (const chunk of chunks) {
      bytes += chunk.length;
      progress.records = (progress.records ?? 0) + 1; // a chunk fetched: the task timeout's measure
      bumpProgress();
      if (file === undefined && heldBytes + chunk.length <= Math.min(FETCHED_RUN_IN_MEMORY_BYTES, memory.leftBytes)) {
        held.push(Buffer.from(chunk)); // a copy: the transport may reuse the chunk's memory
        heldBytes += chunk.length;
        continue;
      }
      if (file === undefined) {
        file = await open(path, 'w');
        for (const part of held) await file.write(part, 0, part.length);
        held.length = 0;
      }
      await file.write(chunk, 0, chunk.length);
    }
  } finally {
    await file?.close();
  }
  if (file !== undefined) return { run: path, bytes };
  memory.leftBytes -= heldBytes;
  return { run: Buffer.concat(held, heldBytes), bytes };
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
