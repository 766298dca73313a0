// EmitBuffer: the map side's grouping buffer (combining, emit order, sorted per-partition drain, byte estimate).
import { describe, expect, it } from 'vitest';
import { EmitBuffer, estimateBytes } from '../../src/core/emit-buffer.ts';
import { compareKeys } from '../../src/core/key-order.ts';
import { makePartitioner } from '../../src/core/partitioner.ts';
import { int, mulberry32, pick, randomString } from './prng.ts';

const sum = (_key: string, values: number[]): number => values.reduce((a, b) => a + b, 0);

describe('EmitBuffer', () => {
  it('with a sum combiner, drained totals equal plain counting', () => {
    const rng = mulberry32(2718);
    const vocab = Array.from({ length: 40 }, () => randomString(rng, 5));
    for (let round = 0; round < 20; round++) {
      const partitions = int(rng, 1, 5);
      const partitioner = makePartitioner({}, partitions);
      const combinedKeys: string[] = [];
      const buffer = new EmitBuffer((key, values: number[]) => (combinedKeys.push(key), sum(key, values)));
      const expected = new Map<string, number>();
      // some keys get hundreds of values, each folded into the key's one value as it comes
      const emits = int(rng, 0, 3000);
      for (let i = 0; i < emits; i++) {
        const key = rng() < 0.5 ? vocab[0] : pick(rng, vocab);
        const value = int(rng, -3, 10);
        buffer.add(key, value);
        expected.set(key, (expected.get(key) ?? 0) + value);
      }
      expect(buffer.records).toBe(emits);
      expect(buffer.size).toBe(expected.size);
      const drained = buffer.drain(partitioner, partitions);
      expect(drained).toHaveLength(partitions);
      const totals = new Map<string, number>();
      drained.forEach((groups, p) => {
        for (const [key, values] of groups) {
          expect(partitioner(key)).toBe(p);
          expect(values).toHaveLength(1);                 // fully combined
          expect(totals.has(key)).toBe(false);
          totals.set(key, values[0] as number);
        }
      });
      expect(totals).toEqual(expected);
      for (const key of combinedKeys) expect(expected.has(key)).toBe(true);   // the combiner saw real keys
    }
  });

  it('without a combiner, keeps every value in emit order', () => {
    const rng = mulberry32(3);
    const buffer = new EmitBuffer();
    const expected = new Map<string, unknown[]>();
    const values: unknown[] = [1, 'one', null, { a: 1 }, [2], true, undefined];
    for (let i = 0; i < 2000; i++) {
      const key = `k${int(rng, 0, 20)}`;
      const value = rng() < 0.5 ? i : pick(rng, values);
      buffer.add(key, value);
      expected.set(key, [...(expected.get(key) ?? []), value]);
    }
    const [groups] = buffer.drain(() => 0, 1);
    expect(new Map(groups)).toEqual(expected);
    expect(groups.every(([key, vs]) => vs.length === expected.get(key)!.length)).toBe(true);
  });

  it('drains per-partition key lists sorted by compareKeys (UTF-8 byte order)', () => {
    const rng = mulberry32(10);
    const buffer = new EmitBuffer(sum);
    const keys = new Set<string>(['\uffff', '😀', 'a', 'B', '', 'é']);
    while (keys.size < 500) keys.add(randomString(rng, 4));
    const shuffled = [...keys].sort(() => rng() - 0.5);
    for (const key of shuffled) buffer.add(key, 1);
    const partitioner = makePartitioner({}, 3);
    const drained = buffer.drain(partitioner, 3);
    for (let p = 0; p < 3; p++) {
      const got = drained[p].map(([key]) => key);
      const want = [...keys].filter((k) => partitioner(k) === p).sort(compareKeys);
      expect(got).toEqual(want);
    }
    expect(drained.flat().length).toBe(keys.size);
  });

  it('grows its byte estimate with every add and resets it on drain', () => {
    const buffer = new EmitBuffer();
    expect(buffer.bytes).toBe(0);
    let last = 0;
    for (let i = 0; i < 200; i++) {
      buffer.add(`key-${i % 17}`, i % 2 === 0 ? i : `value ${i}`);
      expect(buffer.bytes).toBeGreaterThan(last);
      last = buffer.bytes;
    }
    // a new key costs more than another value for a known key
    const before = buffer.bytes;
    buffer.add('key-0', 1);
    const repeatCost = buffer.bytes - before;
    buffer.add('a brand new key', 1);
    expect(buffer.bytes - before - repeatCost).toBeGreaterThan(repeatCost);
    buffer.drain(() => 0, 1);
    expect(buffer.bytes).toBe(0);
    expect(buffer.size).toBe(0);
    expect(buffer.drain(() => 0, 2)).toEqual([[], []]);
  });

  it('keeps one accumulated value per key with a combiner: a repeated key costs no more memory', () => {
    const seen: unknown[][] = [];
    const buffer = new EmitBuffer((key, values: number[]) => (seen.push([...values]), sum(key, values)));
    buffer.add('k', 1);
    const once = buffer.bytes;
    for (let i = 0; i < 999; i++) buffer.add('k', 1);
    expect(buffer.bytes).toBe(once);
    expect(seen.every((values) => values.length === 2)).toBe(true);   // folded as they come: [accumulated, value]
    expect(seen).toHaveLength(999);
    const grows = new EmitBuffer((_key, values: string[]) => values.join(''));
    grows.add('k', 'a');
    const before = grows.bytes;
    grows.add('k', 'bcd');
    expect(grows.bytes).toBe(before + estimateBytes('abcd') - estimateBytes('a'));   // what the value grew by
    expect(buffer.drain(() => 0, 1)).toEqual([[['k', [1000]]]]);
    expect(grows.drain(() => 0, 1)).toEqual([[['k', ['abcd']]]]);
  });

  it('estimates sizes of values', () => {
    expect(estimateBytes(1)).toBe(estimateBytes(2));
    expect(estimateBytes('abcd')).toBeGreaterThan(estimateBytes('a'));
    expect(estimateBytes({ a: 1 })).toBeGreaterThan(0);
    expect(estimateBytes(null)).toBeGreaterThan(0);
  });
});
