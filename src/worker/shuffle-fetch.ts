// A reducer's shuffle: partition r of every map output, read where it lies when this worker has
// it, else fetched. Outputs on the same worker are fetched in batches of one stream each
// (FetchPartitions, batched-fetch.ts) where the wire serves it: thousands of tiny outputs do not
// cost a stream each. A fetched run stays in memory while small, else goes to a file; a fetch is
// retried (a batch for the outputs it did not bring whole), and what is still missing then is
// reported lost, so that the master runs those maps again. A stream that brings nothing for
// FETCH_IDLE_MS (a peer whose host is gone without a word: no reset ever comes) fails like a
// refused one, and so does one from a worker the master has since presumed dead, at once and
// without retries; a cancelled attempt stops at once, whatever its streams are doing.
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { COUNTER, type Counters } from '../core/counters.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { FetchFailedError, TaskError, TransportUnavailableError, oneLine } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { MapOutputStore } from '../storage/map-output-store.ts';
import type { RunRef } from '../storage/run-file.ts';
import type { MapOutput } from '../wires/messages.ts';
import { readFramed, type OutputSink } from './batched-fetch.ts';
import { pausePoint } from './pause-gate.ts';
import { bumpProgress } from './stall-watchdog.ts';

export interface FetchIo {
  store: MapOutputStore;                 // this worker's own map outputs, read without the network
  /** Whether the store may hold this output (this worker made it); without it, the store is asked for every output. */
  mayHold?(output: MapOutput): boolean;
  fetch(output: MapOutput, partition: number): AsyncIterable<Buffer>;
  /** The partition of several outputs of one worker in one stream (batched-fetch.ts's framing), if the wire serves it. */
  fetchMany?(outputs: readonly MapOutput[], partition: number): AsyncIterable<Buffer> | undefined;
  /** Drops the connection to a worker whose stream went silent: the retry connects afresh (and learns at once of a host that is gone). */
  forget?(workerAddress: string): void;
  /** Aborted once the master has said the worker is presumed dead: its streams will bring nothing more. */
  gone?(workerAddress: string): AbortSignal;
}

interface FetchAttempt {
  attemptId: string;
  partition: number;
  mapOutputs: MapOutput[];
}

const FETCH_CONCURRENCY = 8;
const BATCH_OUTPUTS = 64;                         // outputs of one worker asked for in one stream ...
const BATCH_MIN_OUTPUTS = 16;                     // ... once it has this many: a few go faster as parallel streams
const FETCHED_RUN_IN_MEMORY_BYTES = 1 << 20;     // a fetched run up to this size stays in memory ...
const FETCHED_IN_MEMORY_BYTES = 64 << 20;        // ... while an attempt's runs in memory stay under this
const FETCH_RETRY_DELAYS_MS = [200, 1000];
const FETCH_IDLE_MS = 15_000;                    // a stream silent this long is given up (then retried)

type Fetched = { run: RunRef; bytes: number };

/** Gets partition r of each map output, in map order: what this worker can read where it lies, or fetched. */
export async function fetchRuns(
  attempt: FetchAttempt, io: FetchIo, scratch: string, counters: Counters, signal: AbortSignal, progress: AttemptFigures,
): Promise<RunRef[]> {
  const limit = pLimit(FETCH_CONCURRENCY);
  const memory = { leftBytes: FETCHED_IN_MEMORY_BYTES };
  const runs = new Array<RunRef | undefined>(attempt.mapOutputs.length);
  const lost = new Map<number, unknown>();        // map output's position -> why it could not be fetched
  let shuffled = 0;
  progress.outputsFetched = 0;
  const fetched = (i: number, result: Fetched): void => {
    runs[i] = result.run;
    shuffled += result.bytes;
    progress.outputsFetched = (progress.outputsFetched ?? 0) + 1;
    bumpProgress();
    if (attempt.mapOutputs.length > 1) failpoint('worker.shuffle.after-first-run');
  };
  const checkCancelled = async (): Promise<void> => {
    await pausePoint(signal);
    if (signal.aborted) throw new TaskError(`attempt ${attempt.attemptId} was cancelled`);
  };
  const sinkOf = (i: number): OutputSink<Fetched> => runSink(join(scratch, `m-${attempt.mapOutputs[i].mapTask}`), memory, progress);
  const watchedFrom = (address: string, chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> =>
    watched(chunks, { signal, gone: io.gone?.(address), onIdle: () => io.forget?.(address) });
  /** A fetch is idempotent (it rewrites the whole run), so it is retried before giving up; not from a worker known gone. */
  const withRetries = async <T>(fetch: () => Promise<T>, address: string): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fetch();
      } catch (error) {
        if (attempt >= FETCH_RETRY_DELAYS_MS.length || signal.aborted || io.gone?.(address).aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, FETCH_RETRY_DELAYS_MS[attempt]));
      }
    }
  };

  const remote: number[] = [];
  await Promise.all(attempt.mapOutputs.map((output, i) => limit(async () => {
    await checkCancelled();
    const local = io.mayHold?.(output) === false ? undefined : await io.store.localRun(output.outputId, attempt.partition);
    if (local === undefined) remote.push(i);
    else fetched(i, { run: local, bytes: 0 });
  })));
  remote.sort((a, b) => a - b);
  const jobs: (() => Promise<void>)[] = [];
  for (const batch of batchesOf(remote, attempt.mapOutputs, io.fetchMany !== undefined)) {
    jobs.push(batch.length === 1
      ? () => fetchOne(batch[0])
      : () => fetchBatch(batch));
  }
  async function fetchOne(i: number): Promise<void> {
    await checkCancelled();
    try {
      const from = attempt.mapOutputs[i].workerAddress;
      fetched(i, await withRetries(() => download(watchedFrom(from, io.fetch(attempt.mapOutputs[i], attempt.partition)), sinkOf(i)), from));
    } catch (error) {
      lost.set(i, error);
    }
  }
  async function fetchBatch(batch: number[]): Promise<void> {
    await checkCancelled();
    let pending = batch;
    const from = attempt.mapOutputs[batch[0]].workerAddress;   // a batch is one worker's
    try {
      await withRetries(async () => {
        const chunks = io.fetchMany!(pending.map((i) => attempt.mapOutputs[i]), attempt.partition);
        if (chunks === undefined) {   // the peer serves no batches: one stream each
          const each = pending;
          pending = [];
          await Promise.all(each.map((i) => fetchOne(i)));
          return;
        }
        const done = new Set<number>();
        try {
          await readFramed(watchedFrom(from, chunks), pending.length, (k) => sinkOf(pending[k]), (k, result) => {
            done.add(pending[k]);
            fetched(pending[k], result);
          });
        } finally {
          pending = pending.filter((i) => !done.has(i));   // asked again for what did not come whole
        }
      }, from);
    } catch (error) {
      for (const i of pending) lost.set(i, error);
    }
  }
  await Promise.all(jobs.map((job) => limit(job)));
  if (lost.size > 0) {
    if (signal.aborted) throw new TaskError(`attempt ${attempt.attemptId} was cancelled`);
    const positions = [...lost.keys()].sort((a, b) => a - b);
    const missing = positions.map((i) => attempt.mapOutputs[i]);
    throw new FetchFailedError(
      `cannot fetch map output ${missing.map((o) => o.mapTask).join(', ')} (from ${missing[0].path || missing[0].workerAddress}): ${oneLine(lost.get(positions[0]))}`,
      missing.map((o) => o.mapTask),
    );
  }
  counters[COUNTER.shuffleBytes] = shuffled;
  return runs as RunRef[];
}

/** The remote outputs' positions in fetches: one each, or, where batches are served and a worker has many, up to BATCH_OUTPUTS of its at a time. */
function batchesOf(remote: readonly number[], outputs: readonly MapOutput[], batched: boolean): number[][] {
  if (!batched) return remote.map((i) => [i]);
  const byWorker = new Map<string, number[]>();
  for (const i of remote) {
    let list = byWorker.get(outputs[i].workerAddress);
    if (!list) byWorker.set(outputs[i].workerAddress, (list = []));
    list.push(i);
  }
  const batches: number[][] = [];
  for (const list of byWorker.values()) {
    if (list.length < BATCH_MIN_OUTPUTS) batches.push(...list.map((i) => [i]));
    else for (let from = 0; from < list.length; from += BATCH_OUTPUTS) batches.push(list.slice(from, from + BATCH_OUTPUTS));
  }
  return batches;
}

interface Watch {
  signal: AbortSignal;           // the attempt's: cancelled, it stops at once
  gone?: AbortSignal;            // the serving worker's: presumed dead by the master, its stream fails at once
  onIdle: () => void;            // the stream went silent for FETCH_IDLE_MS
}

/**
 * The chunks of a stream, given up with a retryable error when none comes for FETCH_IDLE_MS or
 * its worker is presumed dead, and at once when the attempt is cancelled. The stream itself is
 * let go: the wire ends it when it can.
 */
async function* watched(chunks: AsyncIterable<Buffer>, watch: Watch): AsyncGenerator<Buffer> {
  const iterator = chunks[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const next = await nextWithin(iterator, watch);
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!ended) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

const GONE = 'its worker is presumed dead (the master says so)';

function nextWithin(iterator: AsyncIterator<Buffer>, { signal, gone, onIdle }: Watch): Promise<IteratorResult<Buffer>> {
  if (signal.aborted) return Promise.reject(new TaskError('the attempt was cancelled'));
  if (gone?.aborted) return Promise.reject(new TransportUnavailableError(GONE));
  const pending = iterator.next();
  pending.catch(() => undefined);   // lost the race: its failure is nobody's
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let onGone: (() => void) | undefined;
  const given = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onIdle();
      reject(new TransportUnavailableError(`no data for ${FETCH_IDLE_MS / 1000} s`));
    }, FETCH_IDLE_MS);
    onAbort = () => reject(new TaskError('the attempt was cancelled'));
    onGone = () => reject(new TransportUnavailableError(GONE));
    signal.addEventListener('abort', onAbort, { once: true });
    gone?.addEventListener('abort', onGone, { once: true });
  });
  return Promise.race([pending, given]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort!);
    gone?.removeEventListener('abort', onGone!);
  });
}

async function download(chunks: AsyncIterable<Buffer>, sink: OutputSink<Fetched>): Promise<Fetched> {
  try {
    for await (const chunk of chunks) await sink.add(chunk);
  } catch (error) {
    await sink.abort();
    throw error;
  }
  return sink.finish();
}

/**
 * Where one fetched run goes: kept in memory while it is small and the attempt's memory
 * allowance lasts (thousands of tiny map outputs must not cost a file each), else written to path.
 */
function runSink(path: string, memory: { leftBytes: number }, progress: AttemptFigures): OutputSink<Fetched> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let bytes = 0;
  let file: FileHandle | undefined;
  return {
    async add(chunk) {
      bytes += chunk.length;
      progress.records = (progress.records ?? 0) + 1; // a chunk fetched: the task timeout's measure
      bumpProgress();
      if (file === undefined && heldBytes + chunk.length <= Math.min(FETCHED_RUN_IN_MEMORY_BYTES, memory.leftBytes)) {
        held.push(Buffer.from(chunk)); // a copy: the transport may reuse the chunk's memory
        heldBytes += chunk.length;
        return;
      }
      if (file === undefined) {
        file = await open(path, 'w');
        for (const part of held) await file.write(part, 0, part.length);
        held.length = 0;
      }
      await file.write(chunk, 0, chunk.length);
    },
    async finish() {
      await file?.close();
      if (file !== undefined) return { run: path, bytes };
      memory.leftBytes -= heldBytes;
      return { run: Buffer.concat(held, heldBytes), bytes };
    },
    async abort() {
      await file?.close();
    },
  };
}
