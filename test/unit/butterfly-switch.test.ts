// The butterfly switch model: destination-tag routing reaches every module in log2 N stages by one path.
import { describe, expect, it } from 'vitest';
import { accessNs, conflictsPerStage, route, stagesOf } from '../../src/backends/butterfly/switch-network.ts';

/** Every path from src to dst through the network, found by trying both ports at every stage. */
function allPaths(src: number, dst: number, nodes: number): number[][] {
  const k = stagesOf(nodes);
  let paths: number[][] = [[src]];
  for (let stage = 0; stage < k; stage++) {
    const bit = 1 << (k - 1 - stage);
    paths = paths.flatMap((path) => {
      const row = path[path.length - 1];
      return [[...path, row & ~bit], [...path, row | bit]];
    });
  }
  return paths.filter((path) => path[path.length - 1] === dst);
}

describe('butterfly switch routing', () => {
  it('takes every processor to every module in log2 N stages, ending on the module', () => {
    for (const nodes of [1, 2, 4, 8, 16, 32]) {
      for (let src = 0; src < nodes; src++) {
        for (let dst = 0; dst < nodes; dst++) {
          const hops = route(src, dst, nodes);
          expect(hops).toHaveLength(Math.log2(nodes));
          expect(hops.map((h) => h.stage)).toEqual([...hops.keys()]);
          expect(hops.length === 0 ? src : hops[hops.length - 1].row).toBe(dst);
          for (const hop of hops) expect(hop.switchId).toBeLessThan(Math.max(1, nodes / 2));
        }
      }
    }
  });

  it('has exactly one path between any processor and any module, and routing takes it', () => {
    const nodes = 16;
    for (let src = 0; src < nodes; src++) {
      for (let dst = 0; dst < nodes; dst++) {
        const paths = allPaths(src, dst, nodes);
        expect(paths).toHaveLength(1);
        expect(paths[0].slice(1)).toEqual(route(src, dst, nodes).map((h) => h.row));
      }
    }
  });

  it('the two rows a switch joins share its id; they differ in the stage bit only', () => {
    const nodes = 8;
    const seen = new Map<string, Set<number>>();
    for (let src = 0; src < nodes; src++) {
      for (let dst = 0; dst < nodes; dst++) {
        for (const hop of route(src, dst, nodes)) {
          const key = `${hop.stage}:${hop.switchId}`;
          seen.set(key, (seen.get(key) ?? new Set()).add(hop.row));
        }
      }
    }
    expect(seen.size).toBe(3 * 4);
    for (const [key, rows] of seen) {
      const [stage] = key.split(':').map(Number);
      const [a, b] = [...rows];
      expect(rows.size).toBe(2);
      expect(a ^ b).toBe(1 << (2 - stage));
    }
  });

  it('counts no conflict for the identity permutation, and one per stage where two accesses want the same line', () => {
    const identity = Array.from({ length: 8 }, (_, i) => ({ src: i, dst: i }));
    expect(conflictsPerStage(identity, 8)).toEqual([0, 0, 0]);
    // Both to module 0: the last stage's output line 0 is wanted twice; earlier stages may or may not clash.
    const hotspot = conflictsPerStage([{ src: 1, dst: 0 }, { src: 3, dst: 0 }], 8);
    expect(hotspot[2]).toBe(1);
    expect(conflictsPerStage([{ src: 0, dst: 5 }, { src: 0, dst: 5 }], 8)).toEqual([1, 1, 1]);
  });

  it('charges local accesses per byte and remote ones per stage and byte', () => {
    expect(accessNs(3, 3, 1000, 8)).toBeCloseTo(100);
    expect(accessNs(3, 4, 1000, 8)).toBeCloseTo(3 * 50 + 400);
  });

  it('rejects node counts that are not powers of two and nodes out of range', () => {
    expect(() => stagesOf(6)).toThrow(RangeError);
    expect(() => stagesOf(2048)).toThrow(RangeError);
    expect(() => route(8, 0, 8)).toThrow(RangeError);
  });
});
