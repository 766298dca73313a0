// A map attempt: read the split, call the job's map per record, buffer and pre-combine,
// spill sorted runs when the buffer is full, and leave one sorted file per partition.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { COUNTER, addCounters, type Counters } from '../core/counters.ts';
import { EmitBuffer, type SortedGroups } from '../core/emit-buffer.ts';
import { isFiniteNumber, notANumber, numericBuiltinOf } from '../core/builtins.ts';
import type { JobDefinition, MapContext } from '../core/job.ts';
import type { AttemptFigures } from '../core/progress.ts';
import { makePartitioner } from '../core/partitioner.ts';
import { TaskError, oneLine } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { Checkpoint, InputSplit, JobSpec, PendingUpload } from '../wires/messages.ts';
import { readLineBatches, readWhole } from '../storage/line-reader.ts';
import { lineAt, lineOffset } from '../storage/line-position.ts';
import { gunzipWhole, readGzipLineBatches } from '../storage/gzip-line-reader.ts';
import { isGzipPath } from '../core/splits.ts';
import { RunWriter } from '../storage/run-file.ts';
import { EventLoopTurns } from './event-loop-turns.ts';
import { bumpProgress } from './stall-watchdog.ts';
import { pausePoint } from './pause-gate.ts';
import { mergeRunsInto } from './run-merge.ts';
import type { MapOutputStore } from '../storage/map-output-store.ts';
import { readAsSubmitted } from './input-snapshot.ts';
import { thrownByUser } from './user-frame.ts';
import { WordTable, initialSlotsFor } from '../core/word-table.ts';
import { countWordsOfSplits, wordCountPath, writeWords } from './word-count-map.ts';
import { writeRuns, type OpenRun, type WrittenRuns } from './run-writing.ts';
import { MapCheckpoints, removeResumed, type CheckpointIo, type PositionSource, type Tally } from './map-checkpoint.ts';

/** Empties what the map task buffered into one sorted run per partition, each opened with `open`. */
type Drain = (open: OpenRun) => Promise<WrittenRuns>;

const SLICE_RECORDS = 256;       // records between checks of the buffer, the clock and cancellation

export interface MapAttempt {
  attemptId: string;
  spec: JobSpec;
  /** Read in order: one split, or the splits of small files packed into this task. */
  splits: InputSplit[];
  /** Where an earlier attempt of the task had got to: this one goes on from there (see map-checkpoint.ts). */
  resume?: Checkpoint | null;
}

/** The input's name in a message: its file, or its first file and how many more. */
export function inputName(splits: readonly InputSplit[]): string {
  return splits.length === 1 ? splits[0].path : `${splits[0].path} and ${splits.length - 1} more file(s)`;
}

export interface AttemptResult {
  outputId: string;
  counters: Counters;
  partitionBytes: number[];
  partitionRecords?: number[];   // map attempts: records per partition (what each reducer will read)
  pendingUpload?: PendingUpload; // reduce attempts writing to object storage: their part, not completed
}

export async function runMapTask(
  job: JobDefinition, attempt: MapAttempt, store: MapOutputStore, signal: AbortSignal, progress: AttemptFigures = {}, checkpointIo?: CheckpointIo,
): Promise<AttemptResult> {
  const every = attempt.spec.checkpointMs ?? 0;
  const checkpoints = checkpointIo && (every > 0 || attempt.resume) ? new MapCheckpoints(checkpointIo, attempt.attemptId, every) : undefined;
  try {
    const result = await mapInto(job, attempt, store, signal, progress, checkpoints);
    await checkpoints?.remove();
    if (attempt.resume && checkpointIo) await removeResumed(checkpointIo, attempt.resume);
    return result;
  } catch (error) {
    // A failed or cancelled attempt's spills and partitions are no one's: a disk that filled up
    // must not stay full, nor memory stay held. A cancelled one's checkpoints stay: it may have
    // been moved, and its next attempt resume from them.
    await store.remove(attempt.attemptId).catch(() => undefined);
    if (!signal.aborted) await checkpoints?.remove().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new TaskError(`map of ${inputName(attempt.splits)}: no space for its output in ${store.root} (free some on the worker's --work-dir): ${oneLine(error)}`);
    }
    throw error;
  }
}

async function mapInto(
  job: JobDefinition, attempt: MapAttempt, store: MapOutputStore, signal: AbortSignal, progress: AttemptFigures, checkpoints?: MapCheckpoints,
): Promise<AttemptResult> {
  const { spec } = attempt;
  const started = performance.now();
  const combineCtx = { options: spec.options ?? {} };
  const combine = job.combine ? (key: string, values: unknown[]) => job.combine!(key, values, combineCtx) : undefined;
  const buffer = new EmitBuffer(combine);
  const outputId = attempt.attemptId;
  const dir = await store.create(outputId);
  const spillRoot = checkpoints?.dir ?? dir;   // a checkpointing attempt's spills are its checkpoints' runs
  // Records mapped, emitted and written: the task timeout's measure (the heartbeat's, and the watchdog's within one map call).
  const moved = progressCounter(progress);
  const resumed = checkpoints && attempt.resume ? await resumeFrom(attempt.resume, attempt.splits, checkpoints, spec.reducers) : undefined;
  const spills: string[][] = resumed?.spills ?? [];
  const counters: Counters = resumed?.counters ?? {};
  const tally: Tally = resumed?.tally ?? { bytes: 0, records: 0, emitted: 0 };
  const splits = resumed?.splits ?? attempt.splits;
  const base = attempt.splits.length - splits.length;   // the split this attempt starts in, of the task's
  const name = inputName(attempt.splits);
  progress.inputBytesRead = tally.bytes;
  const spill = async (): Promise<void> => {
    const spillDir = join(spillRoot, `spill-${spills.length}`);
    await mkdir(spillDir, { recursive: true });
    spills.push(await spillRuns(spillDir, drain));
  };
  const partitioner = makePartitioner(job, spec.reducers, spec.options ?? {});
  const words = splits.some((split) => isGzipPath(split.path)) ? undefined : wordCountPath(job, spec.inputMode); // .gz: decompressed on the string path
  const table = words && new WordTable(initialSlotsFor(splits.reduce((sum, split) => sum + (split.end - split.start), 0)));
  /** Empties the buffer (or the table) into one sorted run per partition. */
  const drain: Drain = (open) => table
    ? writeWords(table.drain(spec.reducers), words, open, moved)
    : writePartitions(guard('partition', name, () => buffer.drain(partitioner, spec.reducers)), open, moved);
  const emitted = (): number => tally.emitted + (table ? 0 : buffer.records);
  const inherited = attempt.resume?.counters[COUNTER.checkpoints] ?? 0;
  /** Spills what is buffered, then records the checkpoint: the input up to `at` is all in the runs. */
  const checkpoint = async (source: PositionSource): Promise<void> => {
    const at = typeof source === 'function' ? await source() : source;
    await spill();
    const bytesDone = tally.bytes - (at.unreadBytes ?? 0);
    checkpoints!.record(progress, {
      at: { split: base + at.split, offset: at.offset }, spills: spills.length, emitted: emitted(), bytesDone,
      counters: { ...counters, [COUNTER.mapInputBytes]: bytesDone, [COUNTER.mapInputRecords]: tally.records - (at.unreadRecords ?? 0) },
    }, inherited);
  };
  const turns = new EventLoopTurns();
  /**
   * Between slices of input: checkpoint when one is due (at: where the next record starts, when
   * known), else spill a full buffer; let the event loop turn, pause, stop when cancelled.
   */
  const between = async (at?: PositionSource): Promise<void> => {
    moved(1);
    failpoint('worker.map.after-records');
    if (at && checkpoints?.due()) await checkpoint(at);
    else if ((table ?? buffer).bytes > spec.sortBufferBytes) await spill();
    if (turns.due()) await turns.turn();
    await pausePoint(signal);
    if (signal.aborted) throw new TaskError(`attempt ${attempt.attemptId} was cancelled`);
  };
  const total = table
    ? await countWordsOfSplits(spec.inputMode, splits, table, tally, progress, between)
    : await mapRecords(job, spec, splits, buffer, counters, tally, progress, turns, between, moved);
  counters[COUNTER.mapInputBytes] = tally.bytes;
  counters[COUNTER.mapInputRecords] = tally.records;
  counters[COUNTER.mapOutputRecords] = total;
  const guardedCombine = combine && ((key: string, values: unknown[]) => guard('combine', name, () => combine(key, values)));
  const { bytes: partitionBytes, records: partitionRecords } = await finish(store, outputId, spillRoot, spills, drain, guardedCombine, spec.reducers, moved);
  counters[COUNTER.spills] = spills.length;
  const checkpointed = inherited + (checkpoints?.written ?? 0);
  if (checkpointed > 0) counters[COUNTER.checkpoints] = checkpointed;
  addCounters(counters, store.outputCounters(outputId));
  await store.publish(outputId);
  if (combine) {
    counters[COUNTER.combineInputRecords] = total;  // what the combiner saved: these in, ...
    counters[COUNTER.combineOutputRecords] = sum(partitionRecords); // ... these out to the shuffle
  }
  counters[COUNTER.mapMs] = Math.round(performance.now() - started);
  return { outputId, counters, partitionBytes, partitionRecords };
}

/**
 * What a resumed attempt starts with: the checkpoint's runs as its first spills, its counters,
 * and the splits from the checkpoint's record on. Undefined (start from the beginning) when the
 * runs cannot be had.
 */
async function resumeFrom(from: Checkpoint, splits: readonly InputSplit[], checkpoints: MapCheckpoints, reducers: number): Promise<{
  spills: string[][]; counters: Counters; tally: Tally; splits: InputSplit[];
} | undefined> {
  const spills = await checkpoints.adopt(from, reducers);
  if (!spills) return undefined;
  const counters: Counters = { ...from.counters };
  counters[COUNTER.resumedBytes] = (counters[COUNTER.resumedBytes] ?? 0) + from.bytesDone;
  return {
    spills, counters,
    tally: { bytes: from.bytesDone, records: from.counters[COUNTER.mapInputRecords] ?? 0, emitted: from.emitted },
    // A line belongs to the range holding its first byte: from the record's own offset on, it is read whole.
    splits: splits.slice(from.split).map((split, i) => (i === 0 ? { ...split, start: Math.max(split.start, from.offset) } : split)),
  };
}

/** The generic path: the job's map called on every record, its output into the buffer; returns the records emitted. */
async function mapRecords(
  job: JobDefinition, spec: JobSpec, splits: readonly InputSplit[], buffer: EmitBuffer, counters: Counters, read: Tally, progress: AttemptFigures,
  turns: EventLoopTurns, between: (at?: PositionSource) => Promise<void>, moved: (records: number) => void,
): Promise<number> {
  const ctx = mapContext(spec, splits[0]?.path ?? '', counters);
  // When what is emitted goes straight to sum (or min, max), a value that is no number is refused
  // where it is emitted, so the error names the input file and line (sum itself knows only the key).
  const numeric = job.combine !== undefined ? numericBuiltinOf(job.combine) : numericBuiltinOf(job.reduce);
  const emit = (key: string, value: unknown): void => {
    if (typeof key !== 'string') throw new TypeError(`emit: the key must be a string, got ${typeof key}`);
    if (numeric !== undefined && !isFiniteNumber(value)) throw notANumber(numeric, key, value);
    buffer.add(key, value);
    moved(1);
  };
  for (const [i, split] of splits.entries()) {
    ctx.file = split.path;   // every record knows its own file
    for await (const batch of readAsSubmitted(split, () => readRecords(spec.inputMode, split, read, progress))) {
      await mapBatch(job, split.path, batch, ctx, emit, turns, (record) => between(positionOf(i, split.path, batch, record)), moved);
    }
  }
  return read.emitted + buffer.records;
}

/**
 * Where the record-th record of a batch is, for a checkpoint: known at the batch's end, found by
 * reading its lines again inside it (only when a checkpoint is due); none without offsets (.gz, files).
 */
function positionOf(split: number, file: string, batch: RecordBatch, record: number): PositionSource | undefined {
  const { offset, bytes } = batch;
  if (offset === undefined || bytes === undefined) return undefined;
  const end = offset + bytes;
  const unreadRecords = batch.values.length - record;
  if (unreadRecords === 0) return { split, offset: end };
  return async () => {
    const at = await lineOffset(file, offset, record);
    return { split, offset: at, unreadBytes: end - at, unreadRecords };
  };
}

/** The job's map over a batch of records, a slice at a time. */
async function mapBatch(
  job: JobDefinition, file: string, { keys, values, offset }: RecordBatch, ctx: MutableMapContext, emit: (key: string, value: unknown) => void,
  turns: EventLoopTurns, between: (next: number) => Promise<void>, moved: (records: number) => void,
): Promise<void> {
  for (let from = 0; from < values.length;) {
    // A slice ends after SLICE_RECORDS records, or sooner when the map is slow: a slow map must
    // not starve the event loop (heartbeats, cancellation and pausing go through it).
    const to = Math.min(values.length, from + SLICE_RECORDS);
    let i = from;
    try {
      while (i < to) {
        if (keys !== undefined) ctx.key = keys[i];
        job.map(values[i], emit, ctx);
        i++;
        if ((i & 7) === 0 && turns.due()) break;
      }
    } catch (error) {
      throw await mapFailure(error, file, offset, i);
    }
    moved(i - from);  // the records mapped, once a slice: the watchdog's granularity is seconds
    from = i;
    await between(i);
  }
}

/** Counts records moved (read, emitted, written) into the attempt's progress, for the task timeout. */
function progressCounter(progress: AttemptFigures): (records: number) => void {
  progress.records ??= 0;
  const figures = progress as { records: number };
  return (records) => {
    figures.records += records;
    bumpProgress();
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, n) => total + n, 0);
}

/** Runs a job function, turning what it throws into a TaskError that names the input. */
function guard<T>(what: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new TaskError(`${what} threw on input ${file}: ${thrownByUser(error)}`);
  }
}

/**
 * What a map threw on the record-th record of a batch (read from byte `offset` of the file; no
 * offset: the whole file was the record), naming the input's line and byte and the user's line.
 */
async function mapFailure(error: unknown, file: string, offset: number | undefined, record: number): Promise<TaskError> {
  let where = '';
  if (offset !== undefined) {
    const at = await lineAt(file, offset, record).catch(() => undefined);
    if (at) where = ` line ${at.line} (byte ${at.byte})`;
  }
  return new TaskError(`map threw on input ${file}${where}: ${thrownByUser(error)}`);
}

/** The map's context; its file changes as a packed task moves from one file to the next. */
type MutableMapContext = Omit<MapContext, 'file'> & { file: string; key?: string };

function mapContext(spec: JobSpec, file: string, counters: Counters): MutableMapContext {
  return {
    file,
    key: undefined,
    options: spec.options ?? {},
    count(name: string, n = 1) {
      counters[name] = (counters[name] ?? 0) + n;
    },
  };
}

/** A batch of input records: the values, and in 'records' mode the keys beside them. */
interface RecordBatch {
  values: string[];
  keys?: string[];
  offset?: number;     // file offset of the first record's line; none in 'file' mode
  bytes?: number;      // bytes of input the batch's lines took (with offset: where the next one starts)
}

/** The split's records in batches: lines (passed on as read), key<TAB>value records, or the whole file; counted into `read`. */
async function* readRecords(mode: string, split: InputSplit, read: Tally, progress: AttemptFigures): AsyncGenerator<RecordBatch> {
  const gzip = isGzipPath(split.path);
  if (mode === 'file') {
    const bytes = await readWhole(split.path);
    read.bytes += bytes.length;
    read.records++;
    progress.inputBytesRead = read.bytes;
    yield { values: [new TextDecoder('utf-8', { ignoreBOM: true }).decode(gzip ? await gunzipWhole(bytes) : bytes)] };
    return;
  }
  for await (const batch of gzip ? readGzipLineBatches(split.path) : readLineBatches(split.path, split.start, split.end)) {
    read.bytes += batch.bytes;
    read.records += batch.lines.length;
    progress.inputBytesRead = read.bytes;
    const at = { offset: batch.offset, bytes: batch.bytes };
    yield mode === 'records' ? { ...splitRecords(batch.lines), ...at } : { values: batch.lines, ...at };
  }
}

/** key<TAB>value lines into keys and values; a line without a tab is a key with an empty value. */
function splitRecords(lines: readonly string[]): RecordBatch {
  const keys = new Array<string>(lines.length);
  const values = new Array<string>(lines.length);
  lines.forEach((line, i) => {
    const tab = line.indexOf('\t');
    keys[i] = tab < 0 ? line : line.slice(0, tab);
    values[i] = tab < 0 ? '' : line.slice(tab + 1);
  });
  return { keys, values };
}

/** Writes each partition's sorted groups as one run; returns the runs' bytes and records, by partition. */
function writePartitions(partitions: SortedGroups[], open: OpenRun, moved: (records: number) => void): Promise<WrittenRuns> {
  return writeRuns(partitions.length, open, async (r, out) => {
    for (const [key, values] of partitions[r]) {
      for (const value of values) {
        const flushing = out.write(key, value);
        if (flushing) await flushing;
      }
      moved(values.length);
    }
  });
}

/** Leaves the final partitions in the store: straight from memory, or by merging the spilled runs. */
async function finish(
  store: MapOutputStore, outputId: string, spillRoot: string, spills: string[][], drain: Drain,
  combine: ((key: string, values: unknown[]) => unknown) | undefined, reducers: number, moved: (records: number) => void,
): Promise<WrittenRuns> {
  const final = (r: number): Promise<RunWriter> => store.openPartition(outputId, r);
  if (spills.length === 0) return drain(final);
  const lastDir = join(spillRoot, `spill-${spills.length}`);
  await mkdir(lastDir, { recursive: true });
  spills.push(await spillRuns(lastDir, drain));
  const bytes: number[] = [];
  const records: number[] = [];
  for (let r = 0; r < reducers; r++) {
    const merged = await mergeRunsInto(spills.map((paths) => paths[r]), await final(r), combine, moved);
    bytes.push(merged.bytes);
    records.push(merged.records);
  }
  await Promise.all(spills.map((_, i) => rm(join(spillRoot, `spill-${i}`), { recursive: true, force: true })));
  return { bytes, records };
}

/** Writes one sorted run file per partition into dir; returns their paths. */
async function spillRuns(dir: string, drain: Drain): Promise<string[]> {
  const paths: string[] = [];
  await drain((r) => RunWriter.create(paths[r] = join(dir, `r-${r}`)));
  return paths;
}
