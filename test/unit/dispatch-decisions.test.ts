// The master's dispatch decisions in the pure core: what a worker is offered, the order waiting
// workers are woken in, a report's reply, and what a report does (takeReport).
import { describe, expect, it } from 'vitest';
import { takeReport, type ReportFacts } from '../../src/core/report-step.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import { offerFor, reportReply, wakeOrder } from '../../src/core/task-offer.ts';

function setup(maps = 2, reduces = 1): Scheduler {
  const s = new Scheduler({ leaseMs: 3_000, workerTimeoutMs: 2_000 });
  s.addJob('j', 1, 3, 0);
  s.startStage('j', Array.from({ length: maps }, (_, i) => [{ path: `in-${i}`, start: 0, end: 10, wholeFile: false }]), reduces, 0);
  s.registerWorker('w1', 0);
  s.registerWorker('w2', 0);
  return s;
}

function report(attemptId: string, facts: Partial<ReportFacts> = {}): ReportFacts {
  return { attemptId, ok: true, error: '', outputId: `out-${attemptId}`, ...facts };
}

describe('offerFor', () => {
  it('offers a task to a live worker, an exit when shutting down, and a prompt retry to a worker given up for dead', () => {
    const s = setup();
    const offer = offerFor(s, 'w1', false, 0);
    expect(offer && 'tasks' in offer && offer.tasks.map((t) => t.kind)).toEqual(['map']);
    expect(offerFor(s, 'w1', true, 0)).toEqual({ shutdown: true });
    s.loseWorker('w2', 'silent', 0);
    expect(offerFor(s, 'w2', false, 0)).toEqual({ retryAfterMs: 0 });
    expect(offerFor(s, 'unknown', false, 0)).toEqual({ retryAfterMs: 0 });
  });

  it('offers nothing (the worker waits) when no task is free', () => {
    const s = setup(1);
    offerFor(s, 'w1', false, 0);
    expect(offerFor(s, 'w2', false, 0)).toBeUndefined();
  });
});

describe('offerFor: batches', () => {
  /** Commits the worker's tasks as if each had run mapMs. */
  function commit(s: Scheduler, tasks: readonly { attemptId: string }[], mapMs: number): void {
    for (const t of tasks) s.succeed(t.attemptId, `out-${t.attemptId}`, { 'time.mapMs': mapMs }, 1);
  }
  const tasksOf = (offer: ReturnType<typeof offerFor>) => (offer && 'tasks' in offer ? offer.tasks : []);

  it('gives one task until the maps run time is known, then a batch of short maps: within the time target, the ask and a fair share', () => {
    const s = setup(400);
    const first = tasksOf(offerFor(s, 'w1', false, 0, 64));
    expect(first).toHaveLength(1);
    commit(s, first, 1);                                  // 1 ms a map: 25 fit the time target
    const batch = tasksOf(offerFor(s, 'w1', false, 0, 64));
    expect(batch.map((t) => t.index)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(new Set(batch.map((t) => t.attemptId)).size).toBe(25);
    expect(tasksOf(offerFor(s, 'w2', false, 0, 8))).toHaveLength(8);   // no more than asked
    expect(tasksOf(offerFor(s, 'w2', false, 0))).toHaveLength(1);      // nor to a worker that asks for one
  });

  it('gives slow maps one at a time, and shares the last tasks of a phase out', () => {
    const slow = setup(400);
    commit(slow, tasksOf(offerFor(slow, 'w1', false, 0, 64)), 100);
    expect(tasksOf(offerFor(slow, 'w1', false, 0, 64))).toHaveLength(1);
    const tail = setup(12);
    commit(tail, tasksOf(offerFor(tail, 'w1', false, 0, 64)), 0);
    expect(tasksOf(offerFor(tail, 'w1', false, 0, 64))).toHaveLength(1);   // 11 left for 2 workers: one each at a time
  });

  it('gives reduces singly', () => {
    const s = setup(2, 3);
    commit(s, [...tasksOf(offerFor(s, 'w1', false, 0, 64)), ...tasksOf(offerFor(s, 'w1', false, 0, 64))], 0);
    expect(tasksOf(offerFor(s, 'w1', false, 0, 64)).map((t) => t.kind)).toEqual(['reduce']);
  });
});

describe('wakeOrder', () => {
  it('wakes the least loaded worker first, and among equals the one that waited longest', () => {
    const running: Record<string, number> = { a: 2, b: 0, c: 1, d: 0 };
    const waiting = ['a', 'b', 'c', 'd'].map((workerId) => ({ workerId }));
    expect(wakeOrder(waiting, (id) => running[id]).map((w) => w.workerId)).toEqual(['b', 'd', 'c', 'a']);
    expect(waiting.map((w) => w.workerId)).toEqual(['a', 'b', 'c', 'd']); // the waiting list itself is left as it is
  });
});

describe('reportReply', () => {
  it('carries the next offer only when the worker asks for one and there is one', () => {
    let asked = 0;
    const next = (): string => (asked++, 'task');
    expect(reportReply(true, false, next)).toEqual({ accepted: true, next: null });
    expect(asked).toBe(0); // not asked: no task is taken from the queue for a worker that does not want one
    expect(reportReply(false, true, next)).toEqual({ accepted: false, next: 'task' });
    expect(reportReply(true, true, () => undefined)).toEqual({ accepted: true, next: null });
  });
});

describe('takeReport', () => {
  it('accepts the first success of a task, naming the attempt to journal, and rejects a late copy', () => {
    const s = setup(1);
    const a = s.assign('w1', 0).assignments[0];
    const first = takeReport(s, report(a.attemptId), 10);
    expect(first).toMatchObject({ accepted: true, outcome: 'succeeded', error: '' });
    expect(first.committed?.id).toBe(a.attemptId);
    // The master answers a repeated report from its memo; the core alone would take it for a
    // pre-restart commit of that output, and accept it again without a second commit.
    const repeated = takeReport(s, report(a.attemptId), 15);
    expect(repeated.accepted).toBe(true);
    expect(repeated.committed).toBeUndefined();
    const again = takeReport(s, report(a.attemptId, { outputId: 'another' }), 20);
    expect(again).toMatchObject({ accepted: false, outcome: 'rejected', error: expect.stringMatching(/^late or duplicate/) });
    expect(again.committed).toBeUndefined();
  });

  it('accepts, without a commit of its own, the report of an output committed before a restart', () => {
    const s = setup(1);
    s.restoreTaskDone('j', 1, 'map', 0, { workerId: 'w1', outputId: 'kept' }, {}, 0);
    const step = takeReport(s, report('j.s1.map-0.a1', { outputId: 'kept' }), 10);
    expect(step).toMatchObject({ accepted: true, outcome: 'succeeded', events: [] });
    expect(step.committed).toBeUndefined();
  });

  it('ends the stage with the last reduce: its event is in the step', () => {
    const s = setup(1, 1);
    takeReport(s, report(s.assign('w1', 0).assignments[0].attemptId), 1);
    const r = s.assign('w1', 2).assignments[0];
    expect(r.kind).toBe('reduce');
    expect(takeReport(s, report(r.attemptId), 3).events).toEqual([{ type: 'stage-reduced', jobId: 'j', stage: 1 }]);
  });

  it('a failure is the task\'s; a fetch failure is a loss, not counted, and sends the map back', () => {
    const s = setup(1, 1);
    const failed = takeReport(s, report(s.assign('w1', 0).assignments[0].attemptId, { ok: false, error: 'boom' }), 1);
    expect(failed).toMatchObject({ accepted: false, outcome: 'failed', error: 'boom' });
    expect(s.jobs.get('j')!.stages[0].maps[0].failures).toBe(1);
    takeReport(s, report(s.assign('w2', 2).assignments[0].attemptId), 3); // a failed task goes to another worker first
    const r = s.assign('w1', 4).assignments[0];
    const lost = takeReport(s, report(r.attemptId, { ok: false, error: 'fetch', lostMapTasks: [0] }), 5);
    expect(lost).toMatchObject({ accepted: false, outcome: 'lost', error: 'fetch' });
    expect(s.taskOf(r)?.failures).toBe(0);
    expect(s.jobs.get('j')!.stages[0].maps[0].state).toBe('pending');
  });
});
