// Seeded PRNG and random-string helpers for the unit tests, so that random failures reproduce.

/** mulberry32: a tiny 32-bit PRNG; returns floats in [0, 1). The chaos layer's own. */
export { mulberry32 } from '../../src/wires/chaos/chaos-random.ts';

export type Rng = () => number;

/** An integer in [lo, hi] inclusive. */
export function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

/** One well-formed character: ASCII, 2-byte, 3-byte BMP (both below and above the surrogates) or astral. */
export function randomChar(rng: Rng): string {
  switch (int(rng, 0, 4)) {
    case 0: return String.fromCharCode(int(rng, 0x20, 0x7e));
    case 1: return String.fromCharCode(int(rng, 0x80, 0x7ff));
    case 2: return String.fromCharCode(int(rng, 0x800, 0xd7ff));
    case 3: return String.fromCharCode(int(rng, 0xe000, 0xffff));
    default: return String.fromCodePoint(int(rng, 0x10000, 0x10ffff));
  }
}

/** A well-formed string of up to maxLen characters drawn by randomChar. */
export function randomString(rng: Rng, maxLen: number): string {
  let s = '';
  const n = int(rng, 0, maxLen);
  for (let i = 0; i < n; i++) s += randomChar(rng);
  return s;
}
