// A map attempt that checkpoints, stopped part way, and another attempt resumed from its
// checkpoint: the resumed attempt's map output is byte for byte the one a single attempt makes,
// and its counters are the whole task's; it reads only the input after the checkpoint.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countWords, sum } from '../../src/core/builtins.ts';
import { COUNTER } from '../../src/core/counters.ts';
import type { JobDefinition } from '../../src/core/job.ts';
import type { AttemptFigures } from '../../src/core/progress.ts';
import { MapOutputStore } from '../../src/storage/map-output-store.ts';
import type { CheckpointIo } from '../../src/worker/map-checkpoint.ts';
import { runMapTask } from '../../src/worker/map-task.ts';
import type { Checkpoint, InputSplit, JobSpec } from '../../src/wires/messages.ts';
import { mulberry32, pick } from './prng.ts';

const root = mkdtempSync(join(tmpdir(), 'mr-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REDUCERS = 3;

function corpus(name: string, bytes: number, seed: number): string {
  const rng = mulberry32(seed);
  const words = Array.from({ length: 500 }, (_, i) => `w${i.toString(36)}x`);
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = Array.from({ length: 1 + Math.floor(rng() * 12) }, () => pick(rng, words)).join(' ');
    lines.push(line);
    size += line.length + 1;
  }
  const path = join(root, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

function spec(checkpointMs: number, inputMode = 'lines'): JobSpec {
  return {
    jobPath: '/j.ts', inputFiles: [], outputDir: '/out', reducers: REDUCERS, inputMode, options: {}, splitBytes: 0,
    sortBufferBytes: 64 << 20, maxAttempts: 1, speculation: false, parallelism: 1, jobHash: '', noPacking: false, checkpointMs,
  };
}

function io(name: string): CheckpointIo {
  return { root: join(root, name, 'checkpoints'), clusterRoot: 'checkpoints', host: 'this-host', node: () => 1 };
}

function splitOf(path: string): InputSplit {
  const size = readFileSync(path).length;
  return { path, start: 0, end: size, wholeFile: false, fileBytes: size, mtimeMs: 0 };
}

/** The partitions of an attempt's output, byte for byte (as latin1 strings: vitest compares large Buffers slowly). */
function partitions(store: MapOutputStore, outputId: string): string[] {
  return Array.from({ length: REDUCERS }, (_, r) => readFileSync(store.partitionPath(outputId, r)).toString('latin1'));
}

/** Runs an attempt until its second checkpoint, then cancels it; returns that checkpoint. */
async function checkpointPartWay(job: JobDefinition, splits: InputSplit[], store: MapOutputStore, checkpoints: CheckpointIo, inputMode?: string): Promise<Checkpoint> {
  const controller = new AbortController();
  let kept: Checkpoint | undefined;
  const progress: AttemptFigures = {};
  Object.defineProperty(progress, 'checkpoint', {
    set(checkpoint: Checkpoint) {
      if (checkpoint.seq === 2) {
        kept = checkpoint;
        controller.abort();
      }
    },
    get: () => kept,
  });
  await expect(runMapTask(job, { attemptId: 'first', spec: spec(1, inputMode), splits }, store, controller.signal, progress, checkpoints)).rejects.toThrow(/cancelled/);
  expect(kept).toBeDefined();
  return kept!;
}

const wordCount: JobDefinition = { map: countWords, combine: sum, reduce: sum } as unknown as JobDefinition;
// The string path: a map of its own (not the built-in), values kept as a list (no combiner).
const lengths: JobDefinition = {
  map: (line: string, emit: (key: string, value: unknown) => void) => {
    for (const word of line.split(' ')) if (word) emit(word, word.length);
  },
  reduce: (_key: string, values: number[]) => values.length,
} as unknown as JobDefinition;

describe.each([
  ['word count (the byte-level path)', wordCount, 'lines', 1 << 20],
  ['a map with no combiner (the string path)', lengths, 'lines', 1 << 19],
  ['key<TAB>value records', lengths, 'records', 1 << 19],
] as const)('a map attempt resumed from a checkpoint: %s', (name, job, inputMode, mib) => {
  it('leaves the same output as one attempt, reading only what came after the checkpoint', async () => {
    const dir = join(root, name.replace(/\W+/g, '-'));
    const store = new MapOutputStore(join(dir, 'map-out'));
    // Three splits of two files: a checkpoint may fall in any of them.
    const a = corpus(`${name.length}-a.txt`, 3 * mib, 7);
    const b = corpus(`${name.length}-b.txt`, 2 * mib, 8);
    const whole = splitOf(a);
    const half = Math.floor(whole.end / 2);
    const splits = [{ ...whole, end: half }, { ...whole, start: half }, splitOf(b)];

    const once = await runMapTask(job, { attemptId: 'once', spec: spec(0, inputMode), splits }, store, new AbortController().signal, {}, io(`${name}-0`));
    // Checkpointing all the way changes nothing of the output; the attempt counts its checkpoints.
    const every = await runMapTask(job, { attemptId: 'every', spec: spec(1, inputMode), splits }, store, new AbortController().signal, {}, io(`${name}-3`));
    expect(partitions(store, 'every')).toEqual(partitions(store, 'once'));
    expect(every.counters[COUNTER.checkpoints]).toBeGreaterThanOrEqual(2);
    expect(once.counters[COUNTER.checkpoints]).toBeUndefined();
    const checkpoint = await checkpointPartWay(job, splits, store, io(`${name}-1`), inputMode);
    expect(checkpoint.spills).toBe(2);
    expect(checkpoint.bytesDone).toBeGreaterThan(0);
    expect(checkpoint.bytesDone).toBeLessThan(once.counters[COUNTER.mapInputBytes]);

    const progress: AttemptFigures = {};
    const resumed = await runMapTask(
      job, { attemptId: 'resumed', spec: spec(0, inputMode), splits, resume: checkpoint }, store, new AbortController().signal, progress, io(`${name}-2`),
    );
    expect(partitions(store, 'resumed')).toEqual(partitions(store, 'once'));
    for (const counter of [COUNTER.mapInputBytes, COUNTER.mapInputRecords, COUNTER.mapOutputRecords]) {
      expect([counter, resumed.counters[counter]]).toEqual([counter, once.counters[counter]]);
    }
    expect(resumed.counters[COUNTER.resumedBytes]).toBe(checkpoint.bytesDone);
    expect(resumed.counters[COUNTER.checkpoints]).toBe(2);
    // The checkpoints are gone once the resumed attempt is done: its own, and the one it took over.
    expect(readdirSync(io(`${name}-2`).root)).toEqual([]);
    expect(readdirSync(io(`${name}-1`).root)).toEqual([]);
  });
});

describe('a checkpoint that cannot be had', () => {
  it('is no error: the attempt starts from the beginning', async () => {
    const store = new MapOutputStore(join(root, 'gone', 'map-out'));
    const path = corpus('gone.txt', 1 << 20, 9);
    const splits = [splitOf(path)];
    const once = await runMapTask(wordCount, { attemptId: 'once', spec: spec(0), splits }, store, new AbortController().signal, {}, io('gone-0'));
    const checkpoint = await checkpointPartWay(wordCount, splits, store, io('gone-1'));
    rmSync(checkpoint.dir, { recursive: true });   // its node's disk went with it
    const resumed = await runMapTask(wordCount, { attemptId: 'resumed', spec: spec(0), splits, resume: checkpoint }, store, new AbortController().signal, {}, io('gone-2'));
    expect(partitions(store, 'resumed')).toEqual(partitions(store, 'once'));
    expect(resumed.counters[COUNTER.resumedBytes]).toBeUndefined();
    expect(resumed.counters[COUNTER.mapInputBytes]).toBe(once.counters[COUNTER.mapInputBytes]);
  });
});
