// Hypercube topology (e-cube routes, diameter, mean distance, bisection) and the link model the
// routers run (store-and-forward and circuit timing, waiting for a busy link, the iPSC presets).
import { describe, expect, it } from 'vitest';
import {
  bisectionLinks,
  checkDimensions,
  crossesBisection,
  dimensionsOf,
  ecubeRoute,
  hammingDistance,
  neighbors,
  nodeCount,
} from '../../src/backends/hypercube/topology.ts';
import { LINK_PRESETS, LinkCalendar, checkLinkModel, crossLink, unloadedUs, type LinkModel } from '../../src/backends/hypercube/link-model.ts';

// 100 bytes at 1e8 B/s take exactly 1 us, so hand-computed times stay integers.
function allPairs(d: number, includeSelf: boolean): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let s = 0; s < nodeCount(d); s++) {
    for (let t = 0; t < nodeCount(d); t++) if (includeSelf || s !== t) pairs.push([s, t]);
  }
  return pairs;
}

const lowestBit = (x: number): number => 31 - Math.clz32(x & -x);

describe('hypercube topology', () => {
  it('e-cube routes take hammingDistance hops between neighbours, fixing the lowest bit first', () => {
    // Collects violations instead of calling expect per hop: d = 6 alone has 4096 routes.
    const problems: string[] = [];
    for (let d = 0; d <= 6; d++) {
      for (const [s, t] of allPairs(d, true)) {
        const route = ecubeRoute(s, t, d);
        const where = `d=${d} ${s}->${t} [${route.join(',')}]`;
        if (route[0] !== s || route[route.length - 1] !== t) problems.push(`${where}: wrong ends`);
        if (route.length - 1 !== hammingDistance(s, t)) problems.push(`${where}: hops != distance`);
        let lastBit = -1;
        for (let i = 1; i < route.length; i++) {
          const bit = lowestBit(route[i - 1] ^ route[i]);
          if (!neighbors(route[i - 1], d).includes(route[i])) problems.push(`${where}: step ${i} not a link`);
          if (bit <= lastBit || ((s ^ t) & (1 << bit)) === 0) problems.push(`${where}: step ${i} bit order`);
          lastBit = bit;
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('neighbours differ in exactly one bit, one per dimension', () => {
    expect(neighbors(5, 3)).toEqual([4, 7, 1]);
    expect(neighbors(0, 0)).toEqual([]);
    for (const n of neighbors(300, 10)) expect(hammingDistance(300, n)).toBe(1);
    expect(ecubeRoute(0b000, 0b101, 3)).toEqual([0b000, 0b001, 0b101]);
  });

  it('the diameter is d', () => {
    for (let d = 0; d <= 6; d++) {
      const diameter = Math.max(...allPairs(d, true).map(([s, t]) => ecubeRoute(s, t, d).length - 1));
      expect(diameter).toBe(d);
    }
  });

  it('uniform all-to-all traffic has mean hop count d/2 (and d*2^(d-1)/(2^d-1) without self pairs)', () => {
    for (let d = 0; d <= 6; d++) {
      const meanOver = (pairs: Array<[number, number]>): number =>
        pairs.reduce((sum, [s, t]) => sum + ecubeRoute(s, t, d).length - 1, 0) / pairs.length;
      expect(meanOver(allPairs(d, true))).toBe(d / 2);
      if (d > 0) expect(meanOver(allPairs(d, false))).toBe((d * 2 ** (d - 1)) / (2 ** d - 1));
    }
  });

  it('2^(d-1) links cross the bisection, each joining nodes that differ in the top bit', () => {
    expect(bisectionLinks(0)).toEqual([]);
    for (let d = 1; d <= 10; d++) {
      const links = bisectionLinks(d);
      expect(links).toHaveLength(2 ** (d - 1));
      expect(new Set(links.map(([a, b]) => `${a}-${b}`)).size).toBe(links.length);
      for (const [a, b] of links) {
        expect(a ^ b).toBe(1 << (d - 1));
        expect(crossesBisection(a, b, d)).toBe(true);
        expect(crossesBisection(b, a, d)).toBe(true);
      }
    }
    expect(crossesBisection(0, 1, 3)).toBe(false);
    expect(crossesBisection(3, 7, 3)).toBe(true);
  });

  it('converts between node counts and dimensions', () => {
    for (let d = 0; d <= 10; d++) expect(dimensionsOf(nodeCount(d))).toBe(d);
  });
});

// A message walked over its e-cube route hop by hop, as the routers do (router.ts), on the links' calendars.
function walk(model: LinkModel, src: number, dst: number, d: number, bytes: number, sendUs: number, links: Map<string, LinkCalendar> = new Map()): number {
  const route = ecubeRoute(src, dst, d);
  let readyUs = sendUs;
  for (let i = 0; i + 1 < route.length; i++) {
    const key = `${route[i]}>${route[i + 1]}`;
    if (!links.has(key)) links.set(key, new LinkCalendar());
    readyUs = crossLink(model, bytes, readyUs, links.get(key)!, route.length - 2 - i).readyUs;
  }
  return readyUs;
}

const SAF = { switching: 'store-and-forward', latencyUs: 5, bandwidthBytesPerSec: 1e8, hopUs: 0 } as const;
const CIRCUIT = { switching: 'circuit', latencyUs: 5, bandwidthBytesPerSec: 1e8, hopUs: 2 } as const;

describe('hypercube link model', () => {
  it('store-and-forward: B bytes over h hops arrive at sendUs + h * (B/bw + latency)', () => {
    for (const [src, dst] of [[0, 1], [0, 3], [0, 7], [5, 2]]) {
      const hops = hammingDistance(src, dst);
      expect(walk(SAF, src, dst, 3, 100, 10)).toBe(10 + hops * (1 + 5));
      expect(unloadedUs(SAF, 100, hops)).toBe(hops * 6);
    }
  });

  it('circuit: B bytes over h hops arrive at sendUs + (h-1) * hopUs + latency + B/bw', () => {
    for (const [src, dst] of [[0, 1], [0, 3], [0, 7], [5, 2]]) {
      const hops = hammingDistance(src, dst);
      expect(walk(CIRCUIT, src, dst, 3, 100, 10)).toBe(10 + (hops - 1) * 2 + 5 + 1);
      expect(unloadedUs(CIRCUIT, 100, hops)).toBe((hops - 1) * 2 + 6);
    }
  });

  it('a message waits for the link: for the transmission ahead (store-and-forward), for the whole circuit ahead (circuit)', () => {
    const saf = new Map<string, LinkCalendar>();
    expect(walk(SAF, 0, 1, 1, 100, 0, saf)).toBe(6);
    expect(walk(SAF, 0, 1, 1, 100, 0, saf)).toBe(7);   // starts when the first one's 1 us of transmission ends
    const circuit = new Map<string, LinkCalendar>();
    expect(walk(CIRCUIT, 0, 3, 2, 100, 0, circuit)).toBe(2 + 6);
    // The second waits at the first link until the first circuit's tail has passed it (one hop's
    // set-up and the 1 us of transmission: 3 us), then goes the same way.
    expect(walk(CIRCUIT, 0, 3, 2, 100, 0, circuit)).toBe(3 + 8);
  });

  it('a message is not held back by one stamped later that reached the router first, and waits only for those it overlaps', () => {
    const links = new Map<string, LinkCalendar>();
    expect(walk(SAF, 0, 1, 1, 100, 50, links)).toBe(56);   // the link busy 50..51
    expect(walk(SAF, 0, 1, 1, 100, 10, links)).toBe(16);   // earlier: crosses before it, at 10..11
    expect(walk(SAF, 0, 1, 1, 100, 49.5, links)).toBe(57); // 49.5..50.5 would overlap 50..51: after it, 51..52
    expect(walk(SAF, 0, 1, 1, 100, 11, links)).toBe(17);   // the gap after 10..11 fits one more
    expect(walk(SAF, 0, 1, 1, 100, 10.5, links)).toBe(18); // 10..12 is taken now: 12..13
  });

  it('gives the same times whatever the order the messages of distinct times reach it', () => {
    const sends = [0, 3, 7, 12, 20, 21.5, 40];
    const times = (order: number[]) => {
      const links = new Map<string, LinkCalendar>();
      return new Map(order.map((at) => [at, walk(SAF, 0, 3, 2, 100, at, links)]));
    };
    expect(times([...sends].reverse())).toEqual(times(sends));
  });

  it('the presets: the iPSC/2 is 3x the iPSC/1 to a neighbour for a zero-byte message, and up to about 20x over 7 hops', () => {
    const [one, two] = [LINK_PRESETS.ipsc1, LINK_PRESETS.ipsc2];
    expect(one.switching).toBe('store-and-forward');
    expect(two).toMatchObject({ switching: 'circuit', latencyUs: 350, bandwidthBytesPerSec: 2.8e6 });
    expect(unloadedUs(one, 0, 1) / unloadedUs(two, 0, 1)).toBeCloseTo(3, 5);
    const ratio7 = unloadedUs(one, 0, 7) / unloadedUs(two, 0, 7);
    expect(ratio7).toBeGreaterThan(15);
    expect(ratio7).toBeLessThanOrEqual(21);
  });

  it('rejects a link model without a positive bandwidth or with a negative latency', () => {
    expect(() => checkLinkModel({ ...SAF, bandwidthBytesPerSec: 0 })).toThrow(RangeError);
    expect(() => checkLinkModel({ ...SAF, latencyUs: -1 })).toThrow(RangeError);
  });
});

describe('bad input', () => {
  it('rejects bad dimensions and node counts', () => {
    for (const d of [-1, 11, 1.5, NaN]) {
      expect(() => checkDimensions(d)).toThrow(RangeError);
      expect(() => nodeCount(d)).toThrow(RangeError);
    }
    expect(() => checkDimensions(11)).toThrow(/0 to 10, got 11/);
    for (const n of [0, 3, 6, 1000, 2048, 2.5, -4]) expect(() => dimensionsOf(n)).toThrow(RangeError);
    expect(() => dimensionsOf(12)).toThrow(/got 12/);
  });

  it('rejects nodes out of range', () => {
    expect(() => ecubeRoute(0, 8, 3)).toThrow(RangeError);
    expect(() => ecubeRoute(-1, 0, 3)).toThrow(RangeError);
    expect(() => neighbors(4, 2)).toThrow(RangeError);
    expect(() => crossesBisection(0, 1, 0)).toThrow(RangeError);
    expect(() => hammingDistance(-1, 0)).toThrow(RangeError);
  });

});
