// kway-merge: mergeSorted is a stable k-way merge over batched sources; groupSorted groups across batches.
import { describe, expect, it } from 'vitest';
import { groupSorted, mergeSorted, MinHeap, type BatchSource } from '../../src/core/kway-merge.ts';
import { compareKeys } from '../../src/core/key-order.ts';
import { int, mulberry32, pick, type Rng } from './prng.ts';

interface Rec { key: number; source: number; seq: number }

/** A source that hands out `items` in random batch sizes, empty batches included. */
function batchSource<T>(rng: Rng, items: readonly T[]): BatchSource<T> {
  const batches: T[][] = [];
  let i = 0;
  while (i < items.length) {
    if (rng() < 0.2) batches.push([]);
    const n = int(rng, 1, 6);
    batches.push(items.slice(i, i + n));
    i += n;
  }
  if (rng() < 0.3) batches.push([]);
  return { next: async () => batches.shift() };
}

/** Yields the given batches as an async iterable. */
async function* asyncBatches<T>(batches: T[][]): AsyncGenerator<T[]> {
  for (const b of batches) yield b;
}

function chunk<T>(rng: Rng, items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length;) {
    const n = int(rng, 1, 5);
    out.push(items.slice(i, i + n));
    i += n;
  }
  return out;
}

async function collect<T>(gen: AsyncIterable<T[]>, batchSize: number): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of gen) {
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.length).toBeLessThanOrEqual(batchSize);
    out.push(...batch);
  }
  return out;
}

describe('mergeSorted', () => {
  it('yields the sorted union of random sources; ties keep source order', async () => {
    const rng = mulberry32(31337);
    for (let round = 0; round < 300; round++) {
      const sourceCount = int(rng, 0, 7);
      const all: Rec[] = [];
      const sources: BatchSource<Rec>[] = [];
      for (let source = 0; source < sourceCount; source++) {
        const length = rng() < 0.2 ? 0 : int(rng, 1, 40);
        const keys = Array.from({ length }, () => int(rng, 0, 15)).sort((a, b) => a - b);
        const recs = keys.map((key, seq) => ({ key, source, seq }));
        all.push(...recs);
        sources.push(batchSource(rng, recs));
      }
      const batchSize = int(rng, 1, 10);
      const merged = await collect(mergeSorted(sources, (a, b) => a.key - b.key, batchSize), batchSize);
      // Array.prototype.sort is stable, and `all` is in source order: this is the expected merge
      const expected = [...all].sort((a, b) => a.key - b.key);
      expect(merged).toEqual(expected);
    }
  });

  it('merges string records by key byte order', async () => {
    const rng = mulberry32(8);
    const vocab = ['a', 'b', 'ab', 'é', '\uffff', '😀', ''];
    const lists = Array.from({ length: 4 }, (_, s) =>
      Array.from({ length: int(rng, 0, 30) }, (_, i): [string, string] => [pick(rng, vocab), `${s}:${i}`])
        .sort((x, y) => compareKeys(x[0], y[0])));
    const byKey = (x: [string, string], y: [string, string]) => compareKeys(x[0], y[0]);
    const merged = await collect(mergeSorted(lists.map((l) => batchSource(rng, l)), byKey, 4096), 4096);
    expect(merged).toEqual(lists.flat().sort(byKey));
  });

  it('yields nothing for no sources or only empty ones', async () => {
    const rng = mulberry32(1);
    expect(await collect(mergeSorted<number>([], (a, b) => a - b), 1)).toEqual([]);
    const empties = [batchSource<number>(rng, []), { async next() { return undefined; } }];
    expect(await collect(mergeSorted(empties, (a, b) => a - b), 3)).toEqual([]);
  });

  it('hands out full batches of batchSize until the last', async () => {
    const rng = mulberry32(2);
    const sources = [batchSource(rng, [1, 3, 5, 7, 9]), batchSource(rng, [2, 4, 6, 8])];
    const sizes: number[] = [];
    for await (const batch of mergeSorted(sources, (a, b) => a - b, 4)) sizes.push(batch.length);
    expect(sizes).toEqual([4, 4, 1]);
  });
});

describe('mergeSorted stopped early', () => {
  it('closes every source when its consumer throws, and when it runs to the end', async () => {
    const closed: number[] = [];
    const sources = (): BatchSource<[string, number]>[] => [0, 1].map((n) => {
      let left = 3;
      return {
        next: async () => (left-- > 0 ? [[`k${n}-${left}`, n] as [string, number]] : undefined),
        close: async () => void closed.push(n),
      };
    });
    const byKey = (a: [string, number], b: [string, number]) => compareKeys(a[0], b[0]);
    await expect(groupSorted(mergeSorted(sources(), byKey, 1), () => {
      throw new Error('reduce threw');
    })).rejects.toThrow('reduce threw');
    expect(closed.sort()).toEqual([0, 1]);
    closed.length = 0;
    await groupSorted(mergeSorted(sources(), byKey), () => undefined);
    expect(closed.sort()).toEqual([0, 1]);
  });
});

describe('groupSorted', () => {
  it('groups equal keys across batch boundaries, in order', async () => {
    const rng = mulberry32(4);
    for (let round = 0; round < 200; round++) {
      const records: [string, number][] = [];
      const expected: [string, number[]][] = [];
      const keys = ['', 'a', 'b', 'c', 'é', '😀'].filter(() => rng() < 0.7);
      let n = 0;
      for (const key of keys) {
        const values = Array.from({ length: int(rng, 1, 9) }, () => n++);
        expected.push([key, values]);
        for (const v of values) records.push([key, v]);
      }
      const batches = chunk(rng, records);
      if (rng() < 0.3) batches.splice(int(rng, 0, batches.length), 0, []);   // an empty batch
      const groups: [string, number[]][] = [];
      await groupSorted(asyncBatches(batches), (key, values) => void groups.push([key, values]));
      expect(groups).toEqual(expected);
    }
  });

  it('awaits an async onGroup before the next group', async () => {
    const log: string[] = [];
    const batches = [[['a', 1], ['a', 2]], [['a', 3], ['b', 4]], [['c', 5]]] as [string, number][][];
    await groupSorted(asyncBatches(batches), async (key, values) => {
      log.push(`start ${key}`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`end ${key} ${values.join(',')}`);
    });
    expect(log).toEqual(['start a', 'end a 1,2,3', 'start b', 'end b 4', 'start c', 'end c 5']);
  });

  it('calls nothing for no records', async () => {
    let calls = 0;
    await groupSorted(asyncBatches<[string, number]>([[], []]), () => void calls++);
    expect(calls).toBe(0);
  });
});

describe('MinHeap', () => {
  it('pops in order, with size and peek', () => {
    const rng = mulberry32(6);
    const heap = new MinHeap<number>((a, b) => a < b);
    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
    const values = Array.from({ length: 500 }, () => int(rng, -50, 50));
    for (const v of values) heap.push(v);
    expect(heap.size).toBe(500);
    expect(heap.peek()).toBe(Math.min(...values));
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop() as number);
    expect(out).toEqual([...values].sort((a, b) => a - b));
  });

  it('fixTop() restores order after the top item changed', () => {
    const heap = new MinHeap<{ v: number }>((a, b) => a.v < b.v);
    for (const v of [5, 1, 4, 2, 3]) heap.push({ v });
    heap.peek().v = 10;           // was 1
    heap.fixTop();
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!.v);
    expect(out).toEqual([2, 3, 4, 5, 10]);
  });
});
