// compareKeys: the order of keys is the byte order of their UTF-8 encodings, not JS string order.
import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/core/key-order.ts';
import { int, mulberry32, pick, randomChar, type Rng } from './prng.ts';

const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);   // no lone surrogate
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** A random string over a small alphabet per class, so that long common prefixes are frequent. */
function randomKey(rng: Rng): string {
  const few = ['a', 'b', 'é', '\u4e2d', '\ud7ff', '\ue000', '\uffff', '\ufffd', '😀', '\u{10000}', '\u{10ffff}'];
  let s = '';
  const n = int(rng, 0, 6);
  for (let i = 0; i < n; i++) s += rng() < 0.5 ? pick(rng, few) : randomChar(rng);
  return s;
}

describe('compareKeys', () => {
  it('orders astral characters after U+E000..U+FFFF, as UTF-8 does (and unlike JS <)', () => {
    const astral = '😀';                    // U+1F600: F0 9F 98 80, UTF-16 D83D DE00
    for (const bmp of ['\ue000', '\uf8ff', '\ufffd', '\uffff']) {
      expect(bmp < astral).toBe(false);   // JS code-unit order puts the surrogate first
      expect(compareKeys(bmp, astral)).toBeLessThan(0);
      expect(compareKeys(astral, bmp)).toBeGreaterThan(0);
    }
    expect(compareKeys('\ud7ff', astral)).toBeLessThan(0);
    expect(compareKeys('z', 'é')).toBeLessThan(0);
  });

  it('is 0 for equal strings and orders a prefix first', () => {
    expect(compareKeys('', '')).toBe(0);
    expect(compareKeys('😀x', '😀x')).toBe(0);
    expect(compareKeys('', 'a')).toBeLessThan(0);
    expect(compareKeys('ab', 'a')).toBeGreaterThan(0);
    expect(compareKeys('😀', '😀\u0000')).toBeLessThan(0);
  });

  it('has the sign of Buffer.compare of the UTF-8 encodings for random mixed strings', () => {
    const rng = mulberry32(1234);
    for (let i = 0; i < 20_000; i++) {
      const a = randomKey(rng);
      const b = rng() < 0.3 ? a + randomKey(rng) : rng() < 0.5 ? a.slice(0, int(rng, 0, a.length)) + randomKey(rng) : randomKey(rng);
      // keep the strings well-formed: slicing may cut a surrogate pair in two
      if (!wellFormed(a) || !wellFormed(b)) continue;
      expect(Math.sign(compareKeys(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(byteOrder(a, b)));
    }
  });

  it('sorts an array exactly as sorting by UTF-8 bytes does', () => {
    const rng = mulberry32(77);
    const keys = Array.from({ length: 3000 }, () => randomKey(rng));
    const ours = [...keys].sort(compareKeys);
    const reference = [...keys].sort(byteOrder);
    expect(ours).toEqual(reference);
    expect(ours).not.toEqual([...keys].sort());  // the data does exercise the difference from JS order
  });
});
