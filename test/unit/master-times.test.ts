// When the hypercube master's answers leave: a reduce task after the last map report of its stage,
// a later stage's map after the last reduce report of the stage before, anything else at its
// request's time; whatever order the reports came in.
import { describe, expect, it } from 'vitest';
import { MasterTimes } from '../../src/backends/hypercube/master-times.ts';

const task = (kind: string, stage = 1) => ({ jobId: 'job-a1-b2', stage, kind });

describe('master answer times', () => {
  it('hands a map out at its request\'s time, a reduce after every map of its stage reported', () => {
    const times = new MasterTimes();
    times.report(['job-a1-b2.s1.map-0.a1'], 300);
    expect(times.answerAt(100, [task('map')])).toBe(100);             // an early request is not held by a later report
    times.report(['job-a1-b2.s1.map-1.a1', 'job-a1-b2.s1.map-2.a2'], 700);
    expect(times.answerAt(100, [task('reduce')])).toBe(700);
    expect(times.answerAt(900, [task('reduce')])).toBe(900);
    expect(times.answerAt(100, [])).toBe(100);
    expect(times.lastReportUs).toBe(700);
  });

  it('hands a later stage\'s map out after the stage before reported, and is the same whatever order the reports came in', () => {
    const reports: [string, number][] = [['job-a1-b2.s1.map-0.a1', 50], ['job-a1-b2.s1.reduce-0.a1', 400], ['job-a1-b2.s1.reduce-1.a1', 350]];
    const answers = [reports, [...reports].reverse()].map((order) => {
      const times = new MasterTimes();
      for (const [id, at] of order) times.report([id], at);
      return [times.answerAt(10, [task('map', 2)]), times.answerAt(10, [task('reduce', 1)]), times.lastReportUs];
    });
    expect(answers[0]).toEqual([400, 50, 400]);
    expect(answers[1]).toEqual(answers[0]);
  });
});
