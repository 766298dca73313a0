// Seeded random numbers for the chaos layer. Each node draws the fate of each kind of message
// (a method's calls, a stream's chunks) from a stream of its own, seeded by (--chaos-seed, node,
// kind): the k-th heartbeat of worker-1 meets the same fate in every run with that seed, however
// the other messages interleave with it. Pure: no I/O, no clock.

export type Random = () => number;

/** mulberry32: a small, fast 32-bit generator; floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the names' UTF-16 units, started from the seed: one 32-bit seed per (seed, names). */
export function mixSeed(seed: number, ...names: string[]): number {
  let hash = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const name of names) {
    for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
    hash = Math.imul(hash ^ 0xff, 0x01000193) >>> 0; // a separator: ('ab', 'c') differs from ('a', 'bc')
  }
  return hash;
}

/** One node's streams, created on first use. */
export class RandomStreams {
  private readonly streams = new Map<string, Random>();

  constructor(private readonly seed: number, private readonly node: string) {}

  stream(kind: string): Random {
    let random = this.streams.get(kind);
    if (!random) this.streams.set(kind, (random = mulberry32(mixSeed(this.seed, this.node, kind))));
    return random;
  }
}
