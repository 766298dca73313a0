// What the hypercube master's answers follow: a reduce task every report of its stage's maps, a
// later stage's map every report of the stage before, anything else its request alone.
import { describe, expect, it } from 'vitest';
import { MasterTimes } from '../../src/backends/hypercube/master-times.ts';

const task = (kind: string, stage = 1) => ({ jobId: 'job-a1-b2', stage, kind });

describe('master answer times', () => {
  it('hands a map out after its request alone, a reduce after every map report of its stage', () => {
    const times = new MasterTimes();
    times.report(['job-a1-b2.s1.map-0.a1'], 300);
    expect(times.after([task('map')])).toEqual([]);
    times.report(['job-a1-b2.s1.map-1.a1', 'job-a1-b2.s1.map-2.a2'], 700);
    expect(times.after([task('reduce'), task('reduce')])).toEqual([300, 700]);
    expect(times.after([])).toEqual([]);
    expect(times.reports).toEqual([300, 700]);
  });

  it('hands a later stage\'s map out after the stage before reported', () => {
    const times = new MasterTimes();
    times.report(['job-a1-b2.s1.map-0.a1'], 50);
    times.report(['job-a1-b2.s1.reduce-0.a1', 'job-a1-b2.s1.reduce-1.a1'], 400);
    times.report(['job-a1-b2.s1.reduce-2.a1'], 350);
    expect(times.after([task('map', 2)])).toEqual([400, 350]);
    expect(times.after([task('reduce', 1)])).toEqual([50]);
  });
});
