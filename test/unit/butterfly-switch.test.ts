// The butterfly switch model: destination-tag routing reaches every module in log2 N stages by
// one path; the conflict rule refuses an access whose output line is taken in its cycle.
import { describe, expect, it } from 'vitest';
import {
  LINE_WINDOW_CYCLES, accessNs, claimLine, crossSwitch, lineTableWords, remoteToLocal, route, routeLines, stagesOf,
} from '../../src/backends/butterfly/switch-network.ts';

/** Accesses all issued in `cycle` by different processors: per stage, how many were refused, and the cycle each got through in. */
function sameCycle(accesses: { src: number; dst: number }[], nodes: number, cycle = 0): { conflicts: number[]; through: number[] } {
  const table = new Int32Array(lineTableWords(nodes));
  const conflicts = new Array<number>(stagesOf(nodes)).fill(0);
  const through = accesses.map(({ src, dst }) => crossSwitch(table, routeLines(src, dst, nodes), cycle, new Int32Array(stagesOf(nodes) * nodes), (stage) => conflicts[stage]++));
  return { conflicts, through };
}

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

  it('lets a shift through in one cycle: no two routes share an output line', () => {
    const identity = sameCycle(Array.from({ length: 8 }, (_, i) => ({ src: i, dst: i })), 8);
    expect(identity).toEqual({ conflicts: [0, 0, 0], through: new Array(8).fill(0) });
    for (let by = 0; by < 8; by++) {
      const shift = sameCycle(Array.from({ length: 8 }, (_, i) => ({ src: i, dst: (i + by) % 8 })), 8);
      expect(shift.conflicts).toEqual([0, 0, 0]);
    }
  });

  it('refuses the second of two accesses wanting the same output line in the same cycle, at that stage, and passes it the next cycle', () => {
    // 1 -> 0 and 3 -> 0 on 8 nodes: after stage 0 they are on rows 1 and 3, after stage 1 both want row 1.
    expect(route(1, 0, 8).map((h) => h.row)).toEqual([1, 1, 0]);
    expect(route(3, 0, 8).map((h) => h.row)).toEqual([3, 1, 0]);
    expect(sameCycle([{ src: 1, dst: 0 }, { src: 3, dst: 0 }], 8)).toEqual({ conflicts: [0, 1, 0], through: [0, 1] });
    // Two processors to the same module from the same row: refused at the first stage.
    expect(sameCycle([{ src: 0, dst: 5 }, { src: 4, dst: 5 }], 8)).toEqual({ conflicts: [1, 0, 0], through: [0, 1] });
    // Four processors on module 0: each cycle one gets through, the others are refused again.
    const hot = sameCycle([0, 1, 2, 3].map((src) => ({ src, dst: 0 })), 4);
    expect(hot.through).toEqual([0, 1, 2, 3]);
    expect(hot.conflicts.reduce((a, b) => a + b)).toBe(1 + 2 + 3);
  });

  it('does not refuse a processor its own line twice in one cycle, and keeps claims a window of cycles apart', () => {
    const table = new Int32Array(lineTableWords(4));
    const mine = new Int32Array(8);
    const other = new Int32Array(8);
    expect(claimLine(table, 5, 7, mine)).toBe(true);
    expect(claimLine(table, 5, 7, mine)).toBe(true);
    expect(claimLine(table, 5, 7, other)).toBe(false);
    expect(claimLine(table, 5, 8, other)).toBe(true);
    expect(claimLine(table, 4, 7, other)).toBe(true);
    // A processor behind in simulated time claims its own cycle, whatever later cycles are taken.
    expect(claimLine(table, 5, 3, other)).toBe(true);
    // A cycle a whole window later lands in the same slot: it replaces the old claim.
    expect(claimLine(table, 5, 7 + LINE_WINDOW_CYCLES, other)).toBe(true);
  });

  it('charges local accesses per byte and remote ones per stage and byte', () => {
    expect(accessNs(3, 3, 1000, 8)).toBeCloseTo(100);
    expect(accessNs(3, 4, 1000, 8)).toBeCloseTo(3 * 50 + 400);
    const costs = { localNsPerByte: 1, remoteNsPerByte: 2, perStageNs: 10 };
    expect(remoteToLocal(4, 16, costs)).toBeCloseTo((4 * 10 + 8) / 4);
    expect(remoteToLocal(4, 1, costs)).toBe(1);
    expect(remoteToLocal(4, 16, { ...costs, localNsPerByte: 0 })).toBeNull();
  });

  it('rejects node counts that are not powers of two and nodes out of range', () => {
    expect(() => stagesOf(6)).toThrow(RangeError);
    expect(() => stagesOf(2048)).toThrow(RangeError);
    expect(() => route(8, 0, 8)).toThrow(RangeError);
  });
});
