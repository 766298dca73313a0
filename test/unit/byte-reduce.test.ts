// The byte-level reduce of the built-in aggregations writes what the generic path writes (the
// merged values of each key, in run order, through the built-in function, formatted), and gives
// up, having written nothing, on any record the generic path must handle.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as builtins from '../../src/core/builtins.ts';
import { compareKeys } from '../../src/core/key-order.ts';
import { formatRecord } from '../../src/core/record-codec.ts';
import { encodeRecords, type KeyValue } from '../../src/core/run-records.ts';
import { TextWriter } from '../../src/storage/text-writer.ts';
import { reduceAsBytes } from '../../src/worker/byte-reduce.ts';
import type { Aggregation } from '../../src/core/key-aggregator.ts';
import { int, mulberry32, pick, randomString, type Rng } from './prng.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-byte-reduce-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What the generic path writes: each key's values in run order, reduced by the built-in, keys in byte order. */
function generic(aggregation: Aggregation, runs: KeyValue[][]): string {
  const groups = new Map<string, unknown[]>();
  for (const run of runs) for (const [key, value] of run) (groups.get(key) ?? groups.set(key, []).get(key)!).push(value);
  const fn = builtins[aggregation] as (key: string, values: unknown[]) => unknown;
  return [...groups.keys()].sort(compareKeys).map((key) => formatRecord(key, fn(key, groups.get(key)!))).join('');
}

let file = 0;
/** Reduces runs (the first as a file, the rest in memory) as bytes; the part file's text, or undefined when it gave up. */
async function asBytes(aggregation: Aggregation, runs: KeyValue[][]): Promise<string | undefined> {
  const refs = await Promise.all(runs.map(async (records, i) => {
    const sorted = [...records].sort((a, b) => compareKeys(a[0], b[0]));  // stable: a key's values keep their order
    const bytes = encodeRecords(sorted);
    if (i > 0) return bytes;
    const path = join(dir, `run-${file++}`);
    await writeFile(path, bytes);
    return path;
  }));
  const outPath = join(dir, `out-${file++}`);
  const out = await TextWriter.create(outPath);
  const reduced = await reduceAsBytes(aggregation, refs, out, {}, async () => {});
  await out.close();
  const text = await readFile(outPath, 'utf8');
  if (reduced === undefined) {
    expect(text).toBe('');
    return undefined;
  }
  return text;
}

function randomRuns(rng: Rng, number: (rng: Rng) => number): KeyValue[][] {
  const keys = Array.from({ length: 300 }, () => randomString(rng, 6).replace(/[\t\n]/g, ' '));
  return Array.from({ length: int(rng, 1, 5) }, () => Array.from({ length: int(rng, 0, 400) }, (): KeyValue => [pick(rng, keys), number(rng)]));
}

describe('reduceAsBytes', () => {
  const numbers: [string, (rng: Rng) => number][] = [
    ['counts', (rng) => int(rng, 1, 1000)],
    ['negative and large integers', (rng) => pick(rng, [-1, -(2 ** 40), 2 ** 52, 0, 7])],
    ['fractions, whose sum depends on the order', (rng) => (rng() - 0.5) * 10 ** int(rng, -3, 12)],
  ];
  for (const aggregation of ['sum', 'count', 'min', 'max'] as const) {
    it.each(numbers)(`${aggregation}s %s as the generic path does`, async (_name, number) => {
      const rng = mulberry32(aggregation.length * 31 + _name.length);
      for (let round = 0; round < 5; round++) {
        const runs = randomRuns(rng, number);
        expect(await asBytes(aggregation, runs)).toBe(generic(aggregation, runs));
      }
    });
  }

  it('writes keys in UTF-8 byte order, astral characters included', async () => {
    const runs: KeyValue[][] = [[['\uffff', 1], ['𝐀', 2], ['a', 3], ['é', 4]], [['𝐀', 5], ['', 6]]];
    expect(await asBytes('sum', runs)).toBe(generic('sum', runs));
    expect(await asBytes('sum', runs)).toBe('\t6\na\t3\né\t4\n\uffff\t1\n𝐀\t7\n');
  });

  it.each([
    ['a value that is no number', [[['a', 1], ['b', 'two']]]],
    ['a key with a lone surrogate', [[['\ud800', 1]]]],
    ['a key with a tab', [[['a\tb', 1]]]],
    ['a key with a newline', [[['a\nb', 1]]]],
    ['a value that is not finite', [[['a', 1], ['b', Infinity]]]],
  ] as [string, KeyValue[][]][])('gives up on %s, writing nothing', async (_name, runs) => {
    expect(await asBytes('sum', runs)).toBeUndefined();
  });

  it('leaves the refusal of a value that is no finite number to the built-in, which names the key', () => {
    expect(() => builtins.sum('w', [1, 'one' as unknown as number])).toThrow('sum takes finite numbers, got "one" (a string) for key "w"');
    expect(() => builtins.min('w', [NaN])).toThrow('min takes finite numbers, got NaN (a number) for key "w"');
    expect(() => builtins.max('w', [2, null as unknown as number])).toThrow('max takes finite numbers, got null for key "w"');
  });

  it('counts values of any kind', async () => {
    const runs: KeyValue[][] = [[['a', 'x'], ['a', { y: 1 }], ['b', null]]];
    expect(await asBytes('count', runs)).toBe('a\t2\nb\t1\n');
  });
});
