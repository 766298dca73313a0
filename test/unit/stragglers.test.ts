import { describe, expect, it } from 'vitest';
import { findStragglers, type TaskFigures } from '../../src/core/stragglers.ts';

const done = (index: number, elapsedMs: number, inputRecords?: number, inputBytes?: number): TaskFigures =>
  ({ index, state: 'done', elapsedMs, inputRecords, inputBytes });

describe('findStragglers', () => {
  it('names a reducer with far more than its share of the input records, and says by how much', () => {
    const found = findStragglers('reduce', [done(0, 900, 1750), done(1, 1000, 1750), done(2, 1100, 4750), done(3, 1000, 1750)]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: 'reduce', taskIndex: 2, skewed: true, slow: false, fairShare: 0.25 });
    expect(found[0].inputShare).toBeCloseTo(0.475);
    expect(found[0].inputVsMedian).toBeCloseTo(4750 / 1750);
    expect(found[0].message).toBe('reducer 2: 48% of the reduce input records (fair share 25%), 2.7x the median');
  });

  it('leaves an even spread alone, and a share below 1.5x the fair share', () => {
    expect(findStragglers('reduce', [done(0, 1000, 2400), done(1, 1000, 2600), done(2, 1000, 2500), done(3, 1000, 2500)])).toEqual([]);
    // 35% against a fair 25%: more than the others, not enough to call it skew
    expect(findStragglers('reduce', [done(0, 1000, 3500), done(1, 1000, 2200), done(2, 1000, 2200), done(3, 1000, 2100)])).toEqual([]);
  });

  it('needs a big enough input: a few records spread unevenly are noise', () => {
    expect(findStragglers('reduce', [done(0, 10, 90), done(1, 10, 5), done(2, 10, 5)])).toEqual([]);
  });

  it('falls back to bytes when records are unknown', () => {
    const found = findStragglers('reduce', [done(0, 10, undefined, 900_000), done(1, 10, undefined, 100_000), done(2, 10, undefined, 100_000)]);
    expect(found.map((s) => [s.taskIndex, s.skewed])).toEqual([[0, true]]);
    expect(found[0].message).toContain('of the reduce input bytes');
  });

  it('ignores input figures that only some tasks have (the maps are not all done)', () => {
    expect(findStragglers('reduce', [done(0, 10, 90_000), { index: 1, state: 'pending', elapsedMs: 0 }, done(2, 10, 10)])).toEqual([]);
  });

  it('names a running task that has run twice the median of its finished peers, and at least a second', () => {
    const tasks: TaskFigures[] = [done(0, 2000), done(1, 3000), { index: 2, state: 'running', elapsedMs: 7000 }, done(3, 2500)];
    const found = findStragglers('map', tasks);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: 'map', taskIndex: 2, running: true, slow: true, skewed: false, elapsedVsMedian: 2.8 });
    expect(found[0].message).toBe('map 2: running for 7.0 s, 2.8x the median of its 3 finished peers (2.5 s)');
    // short tasks are never stragglers, however uneven
    expect(findStragglers('map', [done(0, 100), done(1, 120), { index: 2, state: 'running', elapsedMs: 900 }])).toEqual([]);
  });

  it('compares a finished task with its peers, not with itself', () => {
    const found = findStragglers('reduce', [done(0, 1000), done(1, 9000)]);
    expect(found.map((s) => [s.taskIndex, s.slow, s.elapsedVsMedian])).toEqual([[1, true, 9]]);
    expect(found[0].message).toBe('reducer 1: took 9.0 s, 9.0x the median of its 1 finished peer (1.0 s)');
  });

  it('says both when a skewed reducer is also the slow one, and lists the skewed first', () => {
    const found = findStragglers('reduce', [
      done(0, 1000, 1000), done(1, 1000, 1000), { index: 2, state: 'running', elapsedMs: 5000, inputRecords: 6000 }, done(3, 3000, 1000),
    ]);
    expect(found.map((s) => s.taskIndex)).toEqual([2, 3]);
    expect(found[0].message).toBe('reducer 2: 67% of the reduce input records (fair share 25%), 6.0x the median; running for 5.0 s, 5.0x the median of its 3 finished peers (1.0 s)');
  });

  it('has nothing to say about a single task, nor before any peer has finished', () => {
    expect(findStragglers('reduce', [done(0, 50_000, 10_000)])).toEqual([]);
    expect(findStragglers('map', [{ index: 0, state: 'running', elapsedMs: 50_000 }, { index: 1, state: 'running', elapsedMs: 100 }])).toEqual([]);
  });

  it('lists at most maxListed, the worst first', () => {
    const tasks: TaskFigures[] = Array.from({ length: 40 }, (_, i) => done(i, i < 20 ? 1000 : 10_000 + i));
    const found = findStragglers('map', tasks);
    expect(found).toHaveLength(10);
    expect(found[0].taskIndex).toBe(39);
  });
});
