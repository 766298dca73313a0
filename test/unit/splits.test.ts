// Splits: computeSplits cuts files into byte ranges; readLineBatches reads each line in exactly one range.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoPackedSplits, computeSplits, packSplits, type Split } from '../../src/core/splits.ts';
import { readLineBatches } from '../../src/storage/line-reader.ts';
import { int, mulberry32, pick, randomChar, type Rng } from './prng.ts';

let dir: string;
let fileNo = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-unit-splits-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tempFile(content: string | Buffer): Promise<string> {
  const path = join(dir, `f${fileNo++}.txt`);
  await writeFile(path, content);
  return path;
}

/** All lines of [start, end) of the file, and the bytes the reader says they took. */
async function readRange(path: string, start: number, end: number, chunkBytes?: number): Promise<{ lines: string[]; bytes: number }> {
  const lines: string[] = [];
  let bytes = 0;
  for await (const batch of readLineBatches(path, start, end, chunkBytes)) {
    lines.push(...batch.lines);
    bytes += batch.bytes;
  }
  return { lines, bytes };
}

/** The lines of a text as the reader defines them: cut at '\n', a '\r' before it dropped. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** A random text: empty lines, '\n' or '\r\n' endings, multi-byte characters, some very long lines. */
function randomText(rng: Rng): { text: string; lines: string[] } {
  const lines: string[] = [];
  const count = int(rng, 0, 40);
  for (let i = 0; i < count; i++) {
    const r = rng();
    const length = r < 0.2 ? 0 : r < 0.9 ? int(rng, 1, 20) : int(rng, 60, 400);
    let line = '';
    for (let j = 0; j < length; j++) line += rng() < 0.6 ? String.fromCharCode(int(rng, 0x20, 0x7e)) : randomChar(rng);
    lines.push(line);
  }
  const crlf = rng() < 0.3;
  let text = '';
  lines.forEach((line, i) => {
    text += line;
    if (i < lines.length - 1 || rng() < 0.6) text += crlf || rng() < 0.2 ? '\r\n' : '\n';
  });
  // without a final newline an empty last line does not exist: drop it from the expectation
  return { text, lines: linesOf(text) };
}

/** Random cut points of [0, size): contiguous ranges covering the file. */
function randomRanges(rng: Rng, size: number): [number, number][] {
  const cuts = new Set<number>([0, size]);
  const n = int(rng, 0, 8);
  for (let i = 0; i < n; i++) cuts.add(int(rng, 0, size));
  const sorted = [...cuts].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (let i = 0; i + 1 < sorted.length; i++) ranges.push([sorted[i], sorted[i + 1]]);
  return ranges.length > 0 ? ranges : [[0, 0]];
}

/** Why the splits are not contiguous, non-empty slices of `path` covering [0, size) no bigger than maxBytes. */
function coveringProblem(splits: Split[], path: string, size: number, maxBytes: number): string | undefined {
  let at = 0;
  for (const s of splits) {
    if (s.path !== path || s.wholeFile) return `bad split ${JSON.stringify(s)}`;
    if (s.start !== at) return `gap or overlap at ${at}: ${JSON.stringify(s)}`;
    if (s.end <= s.start || s.end - s.start > maxBytes) return `bad length: ${JSON.stringify(s)}`;
    at = s.end;
  }
  return at === size ? undefined : `covers [0, ${at}) of ${size}`;
}

describe('computeSplits', () => {
  it('gives one split per small file, and one (empty) split for an empty file', () => {
    const splits = computeSplits([
      { path: 'a', sizeBytes: 10 },
      { path: 'empty', sizeBytes: 0 },
      { path: 'b', sizeBytes: 100 },
    ], 100, false);
    expect(splits).toEqual([
      { path: 'a', start: 0, end: 10, wholeFile: false },
      { path: 'empty', start: 0, end: 0, wholeFile: false },
      { path: 'b', start: 0, end: 100, wholeFile: false },
    ]);
  });

  it('cuts a large file into ceil(size/splitBytes) contiguous slices covering [0, size)', () => {
    const rng = mulberry32(555);
    for (let i = 0; i < 3000; i++) {
      const size = int(rng, 1, 5000);
      const splitBytes = rng() < 0.5 ? int(rng, 1, 50) : int(rng, 1, size);
      const splits = computeSplits([{ path: 'f', sizeBytes: size }], splitBytes, false);
      const where = `size ${size}, splitBytes ${splitBytes}`;
      expect(splits.length, where).toBe(Math.ceil(size / splitBytes));
      expect(coveringProblem(splits, 'f', size, splitBytes), where).toBeUndefined();
    }
  });

  it('keeps the files in order, each cut on its own', () => {
    const splits = computeSplits([{ path: 'x', sizeBytes: 25 }, { path: 'y', sizeBytes: 5 }, { path: 'z', sizeBytes: 11 }], 10, false);
    expect(splits.map((s) => [s.path, s.start, s.end])).toEqual([
      ['x', 0, 9], ['x', 9, 18], ['x', 18, 25], ['y', 0, 5], ['z', 0, 6], ['z', 6, 11],
    ]);
  });

  it('never cuts a file in whole-file mode', () => {
    const splits = computeSplits([{ path: 'big', sizeBytes: 10_000 }, { path: 'empty', sizeBytes: 0 }], 10, true);
    expect(splits).toEqual([
      { path: 'big', start: 0, end: 10_000, wholeFile: true },
      { path: 'empty', start: 0, end: 0, wholeFile: true },
    ]);
  });

  it('never cuts a .gz file (a gzip stream reads only from its start)', () => {
    const splits = computeSplits([{ path: 'a.txt.gz', sizeBytes: 10_000 }, { path: 'b.GZ', sizeBytes: 25 }], 10, false);
    expect(splits).toEqual([
      { path: 'a.txt.gz', start: 0, end: 10_000, wholeFile: false },
      { path: 'b.GZ', start: 0, end: 25, wholeFile: false },
    ]);
  });

  it('rejects a split size below one byte', () => {
    expect(() => computeSplits([{ path: 'f', sizeBytes: 1 }], 0, false)).toThrowError(RangeError);
    expect(() => computeSplits([{ path: 'f', sizeBytes: 1 }], Number.NaN, false)).toThrowError(RangeError);
  });
});

describe('readLineBatches over splits', () => {
  it('reads a whole small file', async () => {
    const path = await tempFile('one\r\ntwo\n\nfour');
    expect(await readRange(path, 0, Infinity)).toEqual({ lines: ['one', 'two', '', 'four'], bytes: 14 });
    expect((await readRange(await tempFile(''), 0, 0)).lines).toEqual([]);
    expect((await readRange(await tempFile('\n'), 0, 1)).lines).toEqual(['']);
  });

  it('gives a line to the split holding its first byte', async () => {
    const path = await tempFile('aaa\nbbb\nccc\n');   // lines start at 0, 4, 8
    expect((await readRange(path, 0, 4)).lines).toEqual(['aaa']);
    expect((await readRange(path, 0, 5)).lines).toEqual(['aaa', 'bbb']);
    expect((await readRange(path, 4, 5)).lines).toEqual(['bbb']);
    expect((await readRange(path, 5, 8)).lines).toEqual([]);
    expect((await readRange(path, 5, 9)).lines).toEqual(['ccc']);
    expect((await readRange(path, 1, 12)).lines).toEqual(['bbb', 'ccc']);
  });

  it('over random texts, split sizes and chunk sizes, reads every line exactly once', async () => {
    const rng = mulberry32(90210);
    for (let round = 0; round < 60; round++) {
      const { text, lines } = randomText(rng);
      const path = await tempFile(text);
      const size = Buffer.byteLength(text);
      const splitBytes = int(rng, 1, Math.max(1, size + 5));
      const fromComputeSplits = computeSplits([{ path, sizeBytes: size }], splitBytes, false).map((s): [number, number] => [s.start, s.end]);
      for (const ranges of [fromComputeSplits, randomRanges(rng, size)]) {
        const chunkBytes = pick(rng, [1, 2, 3, 7, 64, 1 << 16]);
        const got: string[] = [];
        let bytes = 0;
        for (const [start, end] of ranges) {
          const part = await readRange(path, start, end, chunkBytes);
          got.push(...part.lines);
          bytes += part.bytes;
        }
        const where = `round ${round}, ranges ${JSON.stringify(ranges)}, chunkBytes ${chunkBytes}, text ${JSON.stringify(text).slice(0, 200)}`;
        expect(got, where).toEqual(lines);
        expect(bytes, where).toBe(size);
      }
    }
  });

  it('handles lines much longer than the chunk, cut by splits anywhere', async () => {
    const long = 'é'.repeat(300) + '😀'.repeat(50) + 'x'.repeat(333);
    const text = `${long}\n\nshort\r\n${long}`;
    const path = await tempFile(text);
    const size = Buffer.byteLength(text);
    for (const chunkBytes of [7, 64]) {
      for (let cut = 0; cut <= size; cut += 53) {
        const a = await readRange(path, 0, cut, chunkBytes);
        const b = await readRange(path, cut, size, chunkBytes);
        expect([...a.lines, ...b.lines], `cut ${cut}, chunk ${chunkBytes}`).toEqual([long, '', 'short', long]);
      }
    }
  });

  it('turns invalid UTF-8 into U+FFFD without throwing, also across chunk and split edges', async () => {
    const bytes = Buffer.concat([
      Buffer.from('ok\n'),
      Buffer.from([0xff, 0x61, 0x0a]),              // invalid lead byte, 'a'
      Buffer.from([0xc3, 0x0a]),                    // truncated 2-byte sequence right before a newline
      Buffer.from([0x80, 0x80, 0x62, 0x0d, 0x0a]),  // stray continuation bytes, 'b', CRLF
      Buffer.from([0xe2, 0x82]),                    // truncated 3-byte sequence at the end of the file
    ]);
    const path = await tempFile(bytes);
    const expected = ['ok', '\ufffda', '\ufffd', '\ufffd\ufffdb', '\ufffd'];
    expect(new TextDecoder().decode(bytes).split(/\r?\n/)).toEqual(expected);   // the reference decoding
    for (const chunkBytes of [1, 2, 5, 64]) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const a = await readRange(path, 0, cut, chunkBytes);
        const b = await readRange(path, cut, bytes.length, chunkBytes);
        expect([...a.lines, ...b.lines], `cut ${cut}, chunk ${chunkBytes}`).toEqual(expected);
      }
    }
  });
});

describe('packSplits', () => {
  const file = (path: string, bytes: number): Split => ({ path, start: 0, end: bytes, wholeFile: false });

  it('packs consecutive small splits up to the byte size, in order, and leaves a big split alone', () => {
    const splits = [file('a', 3), file('b', 3), file('c', 3), file('big', 10), file('d', 1), file('e', 9)];
    const tasks = packSplits(splits, 10, 100, 10);
    expect(tasks.map((task) => task.map((s) => s.path))).toEqual([['a', 'b', 'c'], ['big'], ['d', 'e']]);
    // Only splits below the small size are packed, whatever the task size.
    expect(packSplits(splits, 10, 100, 5).map((task) => task.map((s) => s.path))).toEqual([['a', 'b', 'c'], ['big'], ['d'], ['e']]);
  });

  it('puts at most maxSplits splits in a task, and every split in exactly one task', () => {
    const splits = Array.from({ length: 1000 }, (_, i) => file(`f${i}`, 1));
    const tasks = packSplits(splits, 1 << 20, 300);
    expect(tasks.map((task) => task.length)).toEqual([300, 300, 300, 100]);
    expect(tasks.flat()).toEqual(splits);
  });

  it('never makes an empty task, and gives one task per split when nothing is small', () => {
    expect(packSplits([], 10, 5)).toEqual([]);
    const big = [file('a', 10), file('b', 20)];
    expect(packSplits(big, 10, 5)).toEqual([[big[0]], [big[1]]]);
    expect(packSplits([file('a', 200_000), file('b', 200_000)], 4 << 20, 5)).toHaveLength(2);   // above SMALL_SPLIT_BYTES
  });

  it('aims at two packed tasks per worker, and packs nothing when there are no more files than that', () => {
    expect(autoPackedSplits(10_000, 2)).toBe(2500);
    expect(autoPackedSplits(10, 2)).toBe(3);
    expect(autoPackedSplits(4, 2)).toBe(1);
    expect(autoPackedSplits(3, 8)).toBe(1);
  });
});
