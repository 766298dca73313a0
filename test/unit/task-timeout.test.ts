// The task timeout in the pure scheduler, on logical time: an attempt whose reported progress does
// not move for the timeout fails with the reason and is retried; moving progress, a pause (mr kill
// -s STOP) or a timeout of 0 keep it alive; an attempt dropped with its worker can still be failed
// by a later diagnosis of that worker's death. And the diagnosis itself, from a worker's log.
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler.ts';
import { progressMark } from '../../src/core/task-timeout.ts';
import { diagnoseDeath, heapLimitMib } from '../../src/pools/worker-death.ts';

const TIMEOUT = 5_000;

function setup(taskTimeoutMs = TIMEOUT, maxAttempts = 2) {
  // Leases and the worker timeout far beyond the test's clock: only the task timeout acts.
  const s = new Scheduler({ leaseMs: 1e9, workerTimeoutMs: 1e9, taskTimeoutMs });
  s.addJob('j', 1, maxAttempts, 0);
  s.startStage('j', [[{ path: 'in.txt', start: 0, end: 100, wholeFile: false }]], 1, 0);
  s.registerWorker('w1', 0);
  s.registerWorker('w2', 0);
  return s;
}

/** Heartbeats every second from t=from to t=to with the progress mark given by mark(t), ticking after each. */
function beat(s: Scheduler, attemptId: string, from: number, to: number, mark: (t: number) => number, paused = false) {
  const events = [];
  for (let t = from; t <= to; t += 1000) {
    s.heartbeat('w1', [attemptId], t);
    s.noteProgress(attemptId, mark(t), paused, t);
    events.push(...s.tick(t).events);
  }
  return events;
}

describe('task timeout (scheduler, logical time)', () => {
  it('fails an attempt whose progress stands still for the timeout, naming it and the flag', () => {
    const s = setup();
    const a = s.assign('w1', 0).assignments[0];
    expect(beat(s, a.attemptId, 1000, 4000, () => 0)).toEqual([]);
    const events = beat(s, a.attemptId, 5000, 5000, () => 0);
    expect(events).toEqual([{
      type: 'attempt-timed-out', attemptId: a.attemptId,
      error: `map 0 attempt ${a.attemptId} made no progress for 5 s (task timeout, --task-timeout); killed`,
    }]);
    expect(s.isRunning(a.attemptId)).toBe(false);
    expect(s.jobs.get('j')!.stages[0].maps[0].failures).toBe(1);
    // retried like any failed attempt, elsewhere when it can
    expect(s.assign('w1', 5000).assignments).toEqual([]);
    expect(s.assign('w2', 5000).assignments[0]?.index).toBe(0);
  });

  it('fails the job once the task has timed out --max-attempts times, with the reason', () => {
    const s = setup(TIMEOUT, 2);
    const first = s.assign('w1', 0).assignments[0];
    s.tick(TIMEOUT);
    const second = s.assign('w2', TIMEOUT).assignments[0];
    const { events } = s.tick(2 * TIMEOUT);
    expect(events.map((e) => e.type)).toEqual(['attempt-timed-out', 'job-failed']);
    expect(s.jobs.get('j')!.error).toBe(`stage 1 map task 0 failed 2 times; last error: map 0 attempt ${second.attemptId} made no progress for 5 s (task timeout, --task-timeout); killed`);
    expect(first.attemptId).not.toBe(second.attemptId);
  });

  it('keeps an attempt whose progress moves, however long it runs, and counts from its last move', () => {
    const s = setup();
    const a = s.assign('w1', 0).assignments[0];
    expect(beat(s, a.attemptId, 1000, 60_000, (t) => t)).toEqual([]);
    expect(beat(s, a.attemptId, 61_000, 64_000, () => 60_000)).toEqual([]);
    expect(beat(s, a.attemptId, 65_000, 65_000, () => 60_000).map((e) => e.type)).toEqual(['attempt-timed-out']);
  });

  it('never times out a paused attempt, nor any with a timeout of 0', () => {
    const paused = setup();
    const a = paused.assign('w1', 0).assignments[0];
    expect(beat(paused, a.attemptId, 1000, 30_000, () => 0, true)).toEqual([]);
    const never = setup(0);
    const b = never.assign('w1', 0).assignments[0];
    expect(beat(never, b.attemptId, 1000, 30_000, () => 0)).toEqual([]);
  });

  it('counts an attempt lost with its worker once, as a failure once its death is found to be its own', () => {
    const s = setup();
    const a = s.assign('w1', 0).assignments[0];
    s.loseWorker('w1', 'gone', 0);
    const task = () => s.jobs.get('j')!.stages[0].maps[0];
    expect(s.isRunning(a.attemptId)).toBe(false);
    expect([task().failures, task().losses]).toEqual([0, 1]);
    s.fail(a.attemptId, 'cancelled', 100); // the dropped attempt's own report: nothing more
    expect([task().failures, task().losses]).toEqual([0, 1]);
    s.fail(a.attemptId, 'ran out of memory', 100, true); // the loss was its own failure after all
    expect([task().failures, task().losses, task().lastError]).toEqual([1, 0, 'ran out of memory']);
    s.fail(a.attemptId, 'stalled', 100, true); // once only
    expect([task().failures, task().losses, task().lastError]).toEqual([1, 0, 'ran out of memory']);
  });

  it('measures progress as the sum of figures that only grow', () => {
    expect(progressMark(undefined)).toBe(0);
    expect(progressMark({ inputBytesRead: 10, records: 3 })).toBe(13);
    expect(progressMark({ outputsFetched: 2 })).toBe(2);
  });
});

describe('why a worker process died (its log)', () => {
  it('out of memory: the heap limit and how to raise it', () => {
    const log = '{"msg":"registered"}\n<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n';
    expect(diagnoseDeath(log, 64)).toEqual({
      reason: 'ran out of memory (the worker heap limit is 64 MiB); raise it with mr run --worker-heap-mib <MiB> or MR_WORKER_NODE_ARGS=--max-old-space-size=<MiB>',
    });
  });

  it('its watchdog\'s line: the reason and the attempts it names', () => {
    const line = JSON.stringify({ level: 'error', msg: 'task timeout', error: 'map 3 attempt x.a1 made no progress for 2 s (task timeout, --task-timeout); killed', attemptIds: ['x.a1'] });
    expect(diagnoseDeath(`{"msg":"registered"}\n${line}\n`, 64)).toEqual({
      reason: 'made no progress for 2 s (task timeout, --task-timeout); killed', attemptIds: ['x.a1'],
    });
  });

  it('anything else is not the attempts\' doing', () => {
    expect(diagnoseDeath('{"msg":"registered"}\n', 64)).toBeUndefined();
  });

  it('the heap limit: the last --max-old-space-size wins', () => {
    expect(heapLimitMib(['--max-old-space-size=384', '--cpu-prof', '--max-old-space-size=96'], 384)).toBe(96);
    expect(heapLimitMib(['--cpu-prof'], 384)).toBe(384);
  });
});
