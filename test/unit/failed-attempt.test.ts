// The attempt `mr run` shows under a failed job's error: the named task's last failed attempt, its last lines.
import { describe, expect, it } from 'vitest';
import { failedAttemptLines, failedAttemptOf, lastLines } from '../../src/cli/failed-attempt.ts';
import type { AttemptLog, JobStatus } from '../../src/wires/messages.ts';

function attempt(attemptId: string, task: string, state: string, endedMs: number, log = ''): AttemptLog {
  return { attemptId, task, workerId: 'w1', state, error: `${attemptId} threw`, log, startedMs: 0, endedMs, backup: false };
}

const failedJob = (error: string) => ({ state: 'failed', error } as JobStatus);

describe('failedAttemptOf', () => {
  it("takes the last failed attempt of the task the job's error names, not a later one of another task", () => {
    const attempts = [
      attempt('a1', 's1.map-2', 'failed', 1, 'one\n'),
      attempt('a2', 's1.map-2', 'failed', 3, 'two\n'),
      attempt('b1', 's1.map-1', 'failed', 4, 'other\n'),
      attempt('c1', 's1.map-0', 'succeeded', 5),
    ];
    const failed = failedAttemptOf(failedJob('stage 1 map task 2 failed 2 times; last error: x'), attempts);
    expect(failed).toMatchObject({ attemptId: 'a2', task: 's1.map-2', lastLines: ['two'], error: 'a2 threw' });
    expect(failedAttemptOf(failedJob('cannot start stage 2: no input'), attempts)?.attemptId).toBe('b1');
    expect(failedAttemptOf({ ...failedJob(''), state: 'killed' }, attempts)).toBeUndefined();
    expect(failedAttemptOf(failedJob('stage 1 map task 2 failed'), [])).toBeUndefined();
  });

  it('keeps the last 10 lines; a log without a final newline keeps its last line whole', () => {
    const log = Array.from({ length: 25 }, (_, i) => `line ${i}`).join('\n');
    expect(lastLines(log, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 15}`));
    expect(lastLines(`${log}\n`, 10).at(-1)).toBe('line 24');
    expect(lastLines('', 10)).toEqual([]);
    expect(lastLines(`short\n${'x'.repeat(2000)}\n`, 10)).toEqual(['short', `${'x'.repeat(500)} ... (cut)`]);
  });

  it('prints a header naming the attempt, the lines indented, and where to see all', () => {
    const failed = { attemptId: 'j.s1.map-0.a4', task: 's1.map-0', workerId: 'w1', error: 'e', lastLines: ['x', 'y'] };
    expect(failedAttemptLines(failed, 'mr logs j')).toEqual([
      'mr: the last 2 line(s) that attempt j.s1.map-0.a4 (s1.map-0 on w1) printed:', '  x', '  y', "mr: every attempt's log: mr logs j",
    ]);
    expect(failedAttemptLines({ ...failed, lastLines: [] }, 'mr logs j')[0]).toBe('mr: attempt j.s1.map-0.a4 (s1.map-0 on w1) printed nothing');
  });
});
