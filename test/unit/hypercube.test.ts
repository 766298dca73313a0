// Hypercube topology (e-cube routes, diameter, mean distance, bisection) and the store-and-forward
// network simulator (exact arrival times, contention in simulated time, determinism, stats).
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
import { DEFAULT_LINK, HypercubeNetwork, simulate, type Message } from '../../src/backends/hypercube/network-sim.ts';
import { int, mulberry32 } from './prng.ts';

// 100 bytes at 1e8 B/s take exactly 1 us, so hand-computed times stay integers.
const LINK_1US = { latencyUs: 5, bandwidthBytesPerSec: 1e8 };

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

describe('hypercube network simulator', () => {
  it('a single message of B bytes over h hops arrives at sendUs + h * (B/bw + latency)', () => {
    const bytes = 4000; // 4 us at 1e9 B/s
    const { deliveries, stats } = simulate([{ src: 0, dst: 0b1011, bytes, sendUs: 7 }], 4);
    expect(deliveries).toEqual([{ arrivalUs: 7 + 3 * (4 + DEFAULT_LINK.latencyUs), hops: 3 }]);
    expect(stats.simulatedUs).toBe(7 + 3 * 9);
    expect(stats.links.map((l) => [l.from, l.to, l.bytes, l.busyUs, l.messages])).toEqual([
      [0b0000, 0b0001, bytes, 4, 1],
      [0b0001, 0b0011, bytes, 4, 1],
      [0b0011, 0b1011, bytes, 4, 1],
    ]);
    expect(stats.bisectionBytes).toBe(bytes);
  });

  it('a message to itself takes 0 hops and arrives when sent', () => {
    const { deliveries, stats } = simulate([{ src: 3, dst: 3, bytes: 100, sendUs: 2.5 }], 2);
    expect(deliveries).toEqual([{ arrivalUs: 2.5, hops: 0 }]);
    expect(stats.links).toEqual([]);
    expect(stats.hottestLink).toBeUndefined();
    expect(stats.simulatedUs).toBe(2.5);
  });

  it('a message waits for the transmission (not the latency) of one ahead on a shared link', () => {
    const messages: Message[] = [
      { src: 0, dst: 3, bytes: 100, sendUs: 0 }, // 0 -> 1 -> 3
      { src: 0, dst: 1, bytes: 100, sendUs: 0 }, // shares 0 -> 1 and comes second (higher index)
      { src: 2, dst: 3, bytes: 100, sendUs: 0 }, // disjoint link
      { src: 1, dst: 0, bytes: 100, sendUs: 0 }, // the reverse direction is a separate link
    ];
    const { deliveries } = simulate(messages, 2, LINK_1US);
    expect(deliveries).toEqual([
      { arrivalUs: 12, hops: 2 }, // 0-1 at [0,1] arrives 6, 1-3 at [6,7] arrives 12
      { arrivalUs: 7, hops: 1 }, // waits until 1 for 0-1, arrives 1 + 1 + 5
      { arrivalUs: 6, hops: 1 },
      { arrivalUs: 6, hops: 1 },
    ]);
  });

  it('contention is resolved by simulated time, not by input order', () => {
    // The later-sent message comes first in the input but must queue behind the earlier one.
    const { deliveries } = simulate(
      [
        { src: 0, dst: 1, bytes: 100, sendUs: 10 },
        { src: 0, dst: 1, bytes: 1000, sendUs: 0 },
      ],
      1,
      LINK_1US,
    );
    expect(deliveries.map((x) => x.arrivalUs)).toEqual([10 + 1 + 5, 15]);
  });

  it('shuffling the input gives the same per-message results', () => {
    const rng = mulberry32(1337);
    const d = 4;
    const messages: Message[] = Array.from({ length: 200 }, () => ({
      src: int(rng, 0, 15),
      dst: int(rng, 0, 15),
      bytes: int(rng, 0, 5000),
      sendUs: rng() * 50, // random times make exact ties (broken by index) practically impossible
    }));
    const base = simulate(messages, d);
    // the scenario must actually contend: some message arrives later than on an idle network
    const waited = messages.some((m, i) => {
      const idle = m.sendUs + base.deliveries[i].hops * ((m.bytes * 1e6) / 1e9 + 5);
      return base.deliveries[i].arrivalUs > idle + 1e-9;
    });
    expect(waited).toBe(true);
    expect(simulate(messages, d)).toEqual(base);
    for (let round = 0; round < 5; round++) {
      const order = messages.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = int(rng, 0, i);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const shuffled = simulate(order.map((i) => messages[i]), d);
      order.forEach((original, position) => {
        expect(shuffled.deliveries[position]).toEqual(base.deliveries[original]);
      });
      expect(shuffled.stats.links).toEqual(base.stats.links);
      expect(shuffled.stats.simulatedUs).toBe(base.stats.simulatedUs);
    }
  });

  it('computes the stats of a d=2 all-to-all exchange of 100-byte messages', () => {
    const net = new HypercubeNetwork(2, LINK_1US);
    for (const [s, t] of allPairs(2, false)) net.send(s, t, 100, 0);
    const { deliveries, stats } = net.run();
    // Every directed link carries one 1-hop and one 2-hop message; hand-traced arrivals:
    expect(deliveries.map((x) => x.arrivalUs)).toEqual([6, 6, 13, 6, 13, 6, 6, 12, 7, 12, 6, 7]);
    expect(stats.messages).toBe(12);
    expect(stats.bytes).toBe(1200);
    expect(stats.simulatedUs).toBe(13);
    expect(stats.meanHops).toBe(16 / 12);
    expect(stats.maxHops).toBe(2);
    expect(stats.links.map((l) => `${l.from}>${l.to}`)).toEqual(['0>1', '0>2', '1>0', '1>3', '2>0', '2>3', '3>1', '3>2']);
    for (const l of stats.links) expect([l.bytes, l.busyUs, l.messages]).toEqual([200, 2, 2]);
    expect(stats.meanLinkBusyUs).toBe(2);
    expect(stats.maxLinkBusyUs).toBe(2);
    expect(stats.hottestLink).toEqual({ from: 0, to: 1, bytes: 200 }); // all tie: lowest from, then to
    expect(stats.bisectionBytes).toBe(800); // 8 of the 12 messages differ in bit 1
  });

  it('picks the hottest link by bytes and counts every bisection crossing', () => {
    const { stats } = simulate(
      [
        { src: 2, dst: 0, bytes: 300, sendUs: 0 },
        { src: 1, dst: 3, bytes: 300, sendUs: 0 },
        { src: 3, dst: 1, bytes: 500, sendUs: 0 },
        { src: 0, dst: 1, bytes: 100, sendUs: 0 },
      ],
      2,
      LINK_1US,
    );
    expect(stats.hottestLink).toEqual({ from: 3, to: 1, bytes: 500 });
    expect(stats.bisectionBytes).toBe(1100);
    expect(stats.maxLinkBusyUs).toBe(5);
    expect(stats.meanLinkBusyUs).toBe((3 + 3 + 5 + 1) / 4);
  });

  it('an empty run has zero stats', () => {
    const { deliveries, stats } = new HypercubeNetwork(3).run();
    expect(deliveries).toEqual([]);
    expect(stats).toEqual({
      messages: 0, bytes: 0, simulatedUs: 0, meanHops: 0, maxHops: 0, links: [],
      meanLinkBusyUs: 0, maxLinkBusyUs: 0, bisectionBytes: 0,
    });
  });
});

describe('bad input', () => {
  it('rejects bad dimensions and node counts', () => {
    for (const d of [-1, 11, 1.5, NaN]) {
      expect(() => checkDimensions(d)).toThrow(RangeError);
      expect(() => nodeCount(d)).toThrow(RangeError);
      expect(() => new HypercubeNetwork(d)).toThrow(RangeError);
      expect(() => simulate([], d)).toThrow(RangeError);
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
    expect(() => simulate([{ src: 0, dst: 4, bytes: 1, sendUs: 0 }], 2)).toThrow(/messages\[0\]\.dst/);
  });

  it('rejects bad messages and link models', () => {
    const net = new HypercubeNetwork(2);
    expect(() => net.send(0, 4, 10)).toThrow(RangeError);
    expect(() => net.send(0.5, 1, 10)).toThrow(RangeError);
    expect(() => net.send(0, 1, -1)).toThrow(RangeError);
    expect(() => net.send(0, 1, 10, -1)).toThrow(RangeError);
    expect(() => net.send(0, 1, Infinity)).toThrow(RangeError);
    expect(net.size).toBe(0);
    expect(net.send(0, 1, 10)).toBe(0);
    expect(() => simulate([], 2, { latencyUs: 5, bandwidthBytesPerSec: 0 })).toThrow(RangeError);
    expect(() => simulate([], 2, { latencyUs: -1, bandwidthBytesPerSec: 1e9 })).toThrow(RangeError);
  });
});
