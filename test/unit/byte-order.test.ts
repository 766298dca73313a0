// sortByKeyBytes: keys held as bytes come out in byte order (Buffer.compare's), prefixes,
// zero bytes, equal first bytes and empty keys included.
import { describe, expect, it } from 'vitest';
import { sortByKeyBytes } from '../../src/core/byte-order.ts';
import { int, mulberry32 } from './prng.ts';

function spans(keys: Uint8Array[]) {
  const arena = new Uint8Array(keys.reduce((n, k) => n + k.length, 0));
  const starts = new Int32Array(keys.length);
  const lengths = new Int32Array(keys.length);
  let at = 0;
  keys.forEach((key, e) => {
    arena.set(key, at);
    starts[e] = at;
    lengths[e] = key.length;
    at += key.length;
  });
  return { arena, starts, lengths };
}

describe('sortByKeyBytes', () => {
  it('sorts like Buffer.compare, over keys that share long prefixes and hold zero bytes', () => {
    const rng = mulberry32(99);
    for (let round = 0; round < 20; round++) {
      const alphabet = [0, 1, 0x61, 0x62, 0xff];
      const keys = Array.from({ length: int(rng, 0, 400) }, () => Uint8Array.from({ length: int(rng, 0, 7) }, () => alphabet[int(rng, 0, alphabet.length - 1)]));
      const order = Int32Array.from(keys.keys());
      const sorted = [...sortByKeyBytes(spans(keys), order)].map((e) => Buffer.from(keys[e]));
      expect(sorted).toEqual(keys.map((k) => Buffer.from(k)).sort(Buffer.compare));
    }
  });

  it('sorts a subset of the entries, given in any order', () => {
    const keys = ['pear', 'apple', 'pea', 'peach', '', 'app'].map((k) => Buffer.from(k));
    const order = Int32Array.from([3, 0, 2, 4, 1]);
    expect([...sortByKeyBytes(spans(keys), order)].map((e) => keys[e].toString())).toEqual(['', 'apple', 'pea', 'peach', 'pear']);
  });
});
