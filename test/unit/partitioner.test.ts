// Partitioner: hashKey is FNV-1a-32 over UTF-8 and stable; partitions stay in range and spread.
import { describe, expect, it } from 'vitest';
import { defaultPartition, hashKey, makePartitioner } from '../../src/core/partitioner.ts';
import { int, mulberry32, randomChar, randomString, type Rng } from './prng.ts';

/** Reference FNV-1a (32-bit) over the bytes Node encodes the string to. */
function fnv1a32(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

const HIGH = (rng: Rng) => String.fromCharCode(int(rng, 0xd800, 0xdbff));
const LOW = (rng: Rng) => String.fromCharCode(int(rng, 0xdc00, 0xdfff));

describe('hashKey', () => {
  it('is stable: pinned values', () => {
    // computed once; a change of hash function (or of its byte encoding) must break this
    expect(hashKey('')).toBe(2166136261);      // the FNV offset basis, 0x811c9dc5
    expect(hashKey('a')).toBe(3826002220);     // 0xe40c292c, the published FNV-1a-32 of "a"
    expect(hashKey('hello')).toBe(1335831723);
    expect(hashKey('naïve')).toBe(2577008683);
    expect(hashKey('😀')).toBe(866293256);
  });

  it('returns an unsigned 32-bit integer', () => {
    const rng = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const h = hashKey(randomString(rng, 12));
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });

  it('matches FNV-1a-32 over Buffer.from(key, "utf8") for random well-formed strings', () => {
    const rng = mulberry32(20240601);
    for (let i = 0; i < 3000; i++) {
      const key = randomString(rng, 20);
      expect(hashKey(key), JSON.stringify(key)).toBe(fnv1a32(key));
    }
  });

  it('hashes lone low surrogates and a trailing lone high surrogate as U+FFFD (EF BF BD)', () => {
    expect(Buffer.from('\ud800', 'utf8')).toEqual(Buffer.from([0xef, 0xbf, 0xbd]));
    expect(hashKey('\ud800')).toBe(hashKey('\ufffd'));
    expect(hashKey('\udc00')).toBe(hashKey('\ufffd'));
    expect(hashKey('a\udfff')).toBe(fnv1a32('a\udfff'));
    const rng = mulberry32(99);
    for (let i = 0; i < 2000; i++) {
      let key = '';
      const n = int(rng, 0, 12);
      for (let j = 0; j < n; j++) key += rng() < 0.25 ? LOW(rng) : randomChar(rng);
      if (rng() < 0.5) key += HIGH(rng);                    // a high surrogate with nothing after it
      expect(hashKey(key), JSON.stringify(key)).toBe(fnv1a32(key));
    }
  });

  // A high surrogate followed by something other than a low surrogate is lone too.
  it('a lone high surrogate followed by another character hashes as EF BF BD', () => {
    expect(hashKey('\ud800a')).toBe(fnv1a32('\ud800a'));                  // '\ud800a' -> EF BF BD 61
    expect(hashKey('\ud800a')).toBe(hashKey('\ufffda'));
  });

  it('random strings with lone surrogates anywhere match FNV-1a-32 over UTF-8', () => {
    const rng = mulberry32(4242);
    for (let i = 0; i < 2000; i++) {
      let key = '';
      const n = int(rng, 1, 12);
      for (let j = 0; j < n; j++) {
        const r = rng();
        key += r < 0.2 ? HIGH(rng) : r < 0.4 ? LOW(rng) : randomChar(rng);
      }
      expect(hashKey(key), JSON.stringify(key)).toBe(fnv1a32(key));
    }
  });
});

describe('defaultPartition', () => {
  it('is hashKey modulo the reducer count, always within range', () => {
    const rng = mulberry32(5);
    for (let i = 0; i < 2000; i++) {
      const key = randomString(rng, 10);
      const reducers = int(rng, 1, 37);
      const p = defaultPartition(key, reducers);
      expect(Number.isInteger(p) && p >= 0 && p < reducers).toBe(true);
      expect(p).toBe(hashKey(key) % reducers);
    }
  });

  it('spreads 10k keys reasonably over 10 reducers', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) counts[defaultPartition(`key-${i}`, 10)]++;
    // expected 1000 each, standard deviation about 30
    for (const c of counts) {
      expect(c).toBeGreaterThan(850);
      expect(c).toBeLessThan(1150);
    }
  });

  it('spreads random unicode keys reasonably over 10 reducers', () => {
    const rng = mulberry32(11);
    const counts = new Array(10).fill(0);
    const seen = new Set<string>();
    while (seen.size < 10_000) {
      const key = randomString(rng, 8);
      if (seen.has(key)) continue;
      seen.add(key);
      counts[defaultPartition(key, 10)]++;
    }
    for (const c of counts) {
      expect(c).toBeGreaterThan(850);
      expect(c).toBeLessThan(1150);
    }
  });
});

describe('makePartitioner', () => {
  it('uses the stable hash when the job has no partition function', () => {
    const p = makePartitioner({}, 7);
    for (const key of ['', 'a', 'hello', 'naïve', '😀']) expect(p(key)).toBe(hashKey(key) % 7);
  });

  it("uses the job's partition function and passes the reducer count", () => {
    const calls: [string, number][] = [];
    const p = makePartitioner({ partition: (key, n) => (calls.push([key, n]), key.length % n) }, 3);
    expect(p('abcd')).toBe(1);
    expect(p('')).toBe(0);
    expect(calls).toEqual([['abcd', 3], ['', 3]]);
  });

  it.each([
    ['out of range (= reducers)', 4],
    ['negative', -1],
    ['not an integer', 1.5],
    ['NaN', Number.NaN],
    ['a numeric string', '2'],
    ['undefined', undefined],
  ])('rejects a partition function returning %s, naming the key', (_what, returned) => {
    const p = makePartitioner({ partition: () => returned as unknown as number }, 4);
    const key = 'the "key"\twith tab';
    expect(() => p(key)).toThrowError(JSON.stringify(key));
    expect(() => p(key)).toThrowError(/from 0 to 3/);
  });
});
