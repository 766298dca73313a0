// The attempt history as the one record of a job's attempts: outcomes given once, the ends of the
// attempts no report will end, and the per-stage and per-worker figures every view shows.
import { describe, expect, it } from 'vitest';
import { AttemptHistory } from '../../src/master/attempt-history.ts';
import { countAttempts, droppedOutcome } from '../../src/master/attempt-outcomes.ts';
import type { AttemptLog } from '../../src/wires/messages.ts';

const assignment = (attemptId: string, kind: 'map' | 'reduce' = 'map', index = 0, stage = 1) => ({ attemptId, jobId: 'j1', stage, kind, index, workerId: 'w1', backup: false });

describe('AttemptHistory', () => {
  it('gives an outcome once: a late report changes no count, though what it printed is kept', () => {
    const history = new AttemptHistory();
    history.started(assignment('a1'), 'w1', false, 1000);
    expect(history.runningAttempts()).toEqual(['a1']);
    expect(history.finished('a1', 'lost', 'its worker died or stopped answering', '', 2000)).toMatchObject({ state: 'lost', endedMs: 2000 });
    expect(history.runningAttempts()).toEqual([]);
    expect(history.finished('a1', 'failed', 'was cancelled', 'printed\n', 5000)).toBeUndefined();
    expect(history.logs('j1')).toEqual([expect.objectContaining({ state: 'lost', endedMs: 2000, error: 'its worker died or stopped answering', log: 'printed\n' })]);
    expect(history.jobOf('a1')).toBe('j1');
  });

  it('never ends an attempt before it started', () => {
    const history = new AttemptHistory();
    history.started(assignment('a1'), 'w1', false, 1000);
    expect(history.finished('a1', 'cancelled', 'the job was killed while it ran', '', 900)?.endedMs).toBe(1000);
  });
});

describe('droppedOutcome', () => {
  const base = { jobState: 'running' as const, workerAlive: true, taskDone: false };
  it('ends an attempt of an ended job when the job ended, cancelled', () => {
    expect(droppedOutcome({ ...base, jobState: 'failed', jobFinishedMs: 16_000, workerAlive: false }, 240_000))
      .toEqual({ state: 'cancelled', error: 'the job failed while it ran', endedMs: 16_000 });
    expect(droppedOutcome({ ...base, jobState: 'killed', jobFinishedMs: 5 }, 9).error).toBe('the job was killed while it ran');
  });
  it('ends the attempt of a dead worker now, lost; the losing copy of a committed task, cancelled', () => {
    expect(droppedOutcome({ ...base, workerAlive: false }, 7)).toEqual({ state: 'lost', error: 'its worker died or stopped answering', endedMs: 7 });
    expect(droppedOutcome({ ...base, taskDone: true }, 7)).toMatchObject({ state: 'cancelled', endedMs: 7 });
    expect(droppedOutcome(base, 7)).toMatchObject({ state: 'lost', endedMs: 7 });
  });
});

describe('countAttempts', () => {
  const a = (over: Partial<AttemptLog>): AttemptLog =>
    ({ attemptId: 'x', task: 's1.map-0', workerId: 'w1', state: 'succeeded', error: '', log: '', startedMs: 0, endedMs: 1, backup: false, ...over });
  it('counts by stage and by worker from the same attempts', () => {
    const counts = countAttempts([
      a({ state: 'failed' }), a({ state: 'failed', workerId: 'w2' }), a({}), a({ state: 'lost', workerId: 'w2' }),
      a({ task: 's1.reduce-0', state: 'cancelled', backup: true }), a({ task: 's1.reduce-1', state: 'running', workerId: 'w2' }),
      a({ task: 's2.map-0', state: 'rejected' }),
    ]);
    expect(counts.stage(1)).toEqual({ mapAttempts: 4, reduceAttempts: 2, failedAttempts: 2, backupAttempts: 1 });
    expect(counts.stage(2)).toEqual({ mapAttempts: 1, reduceAttempts: 0, failedAttempts: 0, backupAttempts: 0 });
    expect(counts.stage(3)).toEqual({ mapAttempts: 0, reduceAttempts: 0, failedAttempts: 0, backupAttempts: 0 });
    expect(counts.worker('w1')).toEqual({ running: 0, succeeded: 1, failed: 1 });
    expect(counts.worker('w2')).toEqual({ running: 1, succeeded: 0, failed: 1 });
    expect(counts.worker('w3')).toEqual({ running: 0, succeeded: 0, failed: 0 });
  });
});
