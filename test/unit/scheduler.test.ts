// Scheduler: the master's pure state machine (assignment, barrier, retries, leases, lost workers, stages).
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { Assignment, SchedulerEvent } from '../../src/core/scheduler-records.ts';
import { emptyStep } from '../../src/core/scheduler-step.ts';
import type { MapInput } from '../../src/core/splits.ts';
import { stageCounters } from '../../src/core/task-table.ts';

// As in the master's defaults, an attempt's lease outlasts the worker timeout.
const LEASE = 3_000;
const WORKER_TIMEOUT = 2_000;
const STEP = 250;

function splitsOf(n: number): MapInput[] {
  return Array.from({ length: n }, (_, i) => [{ path: `in-${i}.txt`, start: 0, end: 10 + i, wholeFile: false }]);
}

/** A scheduler with job 'j' running its first stage, and workers w1 and w2 registered at t=0. */
function setup(opts: { maps?: number; reduces?: number; maxAttempts?: number; stageCount?: number } = {}) {
  const s = new Scheduler({ leaseMs: LEASE, workerTimeoutMs: WORKER_TIMEOUT });
  const splits = splitsOf(opts.maps ?? 3);
  s.addJob('j', opts.stageCount ?? 1, opts.maxAttempts ?? 3, 0);
  s.startStage('j', splits, opts.reduces ?? 2, 0);
  s.registerWorker('w1', 0);
  s.registerWorker('w2', 0);
  const job = s.jobs.get('j')!;
  const stage = () => job.stages[job.stages.length - 1];
  return { s, splits, job, stage };
}

/** The one task the worker is handed now: its step hands out that task and does nothing else. */
function mustAssign(s: Scheduler, worker: string, now = 0): Assignment {
  const step = s.assign(worker, now);
  const [a] = step.assignments;
  if (!a) throw new Error(`expected an assignment for ${worker}`);
  expect(step).toEqual({ assignments: [a], cancels: [], events: [] });
  expect(a.workerId).toBe(worker);
  return a;
}

/**
 * Advances the clock from `from` to `to` in steps: at each step the workers named in `beats`
 * send a heartbeat listing the given attempts, then the scheduler ticks. Returns the events.
 */
/** The events of the ticks from `from` to `to`, the workers' own ('worker-lost') left out unless asked for. */
function run(s: Scheduler, from: number, to: number, beats: Record<string, string[]>, workerEvents = false): SchedulerEvent[] {
  const events: SchedulerEvent[] = [];
  for (let t = from; t <= to; t += STEP) {
    for (const [worker, attempts] of Object.entries(beats)) s.heartbeat(worker, attempts, t);
    events.push(...s.tick(t).events);
  }
  return workerEvents ? events : events.filter((event) => event.type !== 'worker-lost');
}

/** Runs every map task of the current stage to success on the given worker. */
function finishMaps(s: Scheduler, n: number, worker = 'w1', now = 0): void {
  for (let i = 0; i < n; i++) {
    const a = mustAssign(s, worker, now);
    expect(a.kind).toBe('map');
    expect(s.succeed(a.attemptId, `out-${a.index}`, {}, now).accepted).toBe(true);
  }
}

describe('Scheduler: map assignment and the barrier', () => {
  it('hands out one map task per split, in order, each carrying its split', () => {
    const { s, splits, job } = setup({ maps: 4, reduces: 2 });
    expect(job.state).toBe('running');
    const got = [mustAssign(s, 'w1'), mustAssign(s, 'w2'), mustAssign(s, 'w1'), mustAssign(s, 'w2')];
    expect(got.map((a) => [a.kind, a.index, a.stage, a.jobId])).toEqual([
      ['map', 0, 1, 'j'], ['map', 1, 1, 'j'], ['map', 2, 1, 'j'], ['map', 3, 1, 'j'],
    ]);
    got.forEach((a, i) => expect(a.splits).toEqual(splits[i]));
    expect(new Set(got.map((a) => a.attemptId)).size).toBe(4);
    // every map runs: nothing more to hand out (and certainly no reduce)
    expect(s.assign('w1', 0).assignments).toEqual([]);
  });

  it('assigns no reduce while one map is still running, even when all the others are done', () => {
    const { s } = setup({ maps: 3, reduces: 2 });
    const [a0, a1, a2] = [mustAssign(s, 'w1'), mustAssign(s, 'w1'), mustAssign(s, 'w2')];
    s.succeed(a0.attemptId, 'o0', {}, 1);
    s.succeed(a2.attemptId, 'o2', {}, 1);
    expect(s.assign('w1', 2).assignments).toEqual([]);
    expect(s.assign('w2', 2).assignments).toEqual([]);
    s.succeed(a1.attemptId, 'o1', {}, 3);
    const r = mustAssign(s, 'w1', 4);
    expect([r.kind, r.index]).toEqual(['reduce', 0]);
  });

  it('assigns no reduce while a map is pending again after a failure', () => {
    const { s } = setup({ maps: 2, reduces: 1 });
    const a0 = mustAssign(s, 'w1');
    const a1 = mustAssign(s, 'w1');
    s.succeed(a0.attemptId, 'o0', {}, 1);
    expect(s.fail(a1.attemptId, 'boom', 1)).toEqual(emptyStep());
    const retry = mustAssign(s, 'w2', 2);
    expect([retry.kind, retry.index]).toEqual(['map', 1]);
    expect(s.assign('w2', 2).assignments).toEqual([]);
  });

  it('hands out an early task that went back to pending before the later ones, and keeps the done counts as tasks come and go', () => {
    const { s, stage } = setup({ maps: 5, reduces: 1 });
    const given = [0, 1, 2].map(() => mustAssign(s, 'w1'));
    s.succeed(given[0].attemptId, 'o0', {}, 1);
    s.fail(given[1].attemptId, 'boom', 1);                 // map 1 pending again, behind map 3
    expect(mustAssign(s, 'w2', 2).index).toBe(1);
    expect(mustAssign(s, 'w2', 2).index).toBe(3);
    expect(stage().mapTally.done).toBe(1);
    s.loseWorker('w1', 'gone', 3);                         // map 0's output and map 2's attempt go with w1
    expect(stage().mapTally.done).toBe(0);
    expect([mustAssign(s, 'w2', 4).index, mustAssign(s, 'w2', 4).index, mustAssign(s, 'w2', 4).index]).toEqual([0, 2, 4]);
    expect(s.assign('w2', 4).assignments).toEqual([]);
  });

  it('hands out the reduces once all maps have committed, with map outputs in map order and their workers', () => {
    const { s } = setup({ maps: 3, reduces: 2 });
    const a0 = mustAssign(s, 'w1');
    const a1 = mustAssign(s, 'w2');
    const a2 = mustAssign(s, 'w1');
    // commit out of order: the outputs must still come in map order
    s.succeed(a2.attemptId, 'out-2', {}, 1);
    s.succeed(a0.attemptId, 'out-0', {}, 2);
    s.succeed(a1.attemptId, 'out-1', {}, 3);
    const r0 = mustAssign(s, 'w1', 4);
    const r1 = mustAssign(s, 'w2', 4);
    expect([r0.kind, r0.index, r1.kind, r1.index]).toEqual(['reduce', 0, 'reduce', 1]);
    const expected = [
      { workerId: 'w1', outputId: 'out-0' },
      { workerId: 'w2', outputId: 'out-1' },
      { workerId: 'w1', outputId: 'out-2' },
    ];
    expect(r0.mapOutputs).toEqual(expected);
    expect(r1.mapOutputs).toEqual(expected);
    expect(r0.splits).toBeUndefined();
    expect(s.assign('w1', 5).assignments).toEqual([]);
  });
});

describe('Scheduler: success reports', () => {
  it('accepts the first success of a task and rejects a repeated report of it', () => {
    const { s, stage } = setup({ maps: 2, reduces: 1 });
    const a = mustAssign(s, 'w1');
    expect(s.succeed(a.attemptId, 'o', { n: 5 }, 1).accepted).toBe(true);
    expect(s.succeed(a.attemptId, 'o-again', { n: 5 }, 2).accepted).toBe(false);
    expect(stageCounters(stage())).toEqual({ n: 5 });            // counted once
    expect(stage().maps[0].output).toEqual({ workerId: 'w1', outputId: 'o' });
  });

  it('rejects the late success of an attempt that was replaced after losing its lease', () => {
    const { s, stage } = setup({ maps: 1, reduces: 1 });
    const old = mustAssign(s, 'w1', 0);
    // the worker lives on but stops renewing the attempt
    expect(run(s, STEP, LEASE + 500, { w1: [], w2: [] })).toEqual([]);
    expect(stage().maps[0].state).toBe('pending');
    const fresh = mustAssign(s, 'w2', LEASE + 600);
    expect(fresh.index).toBe(old.index);
    expect(fresh.attemptId).not.toBe(old.attemptId);
    expect(s.succeed(old.attemptId, 'stale', { n: 1 }, LEASE + 700).accepted).toBe(false);
    expect(stage().maps[0].state).toBe('running');
    expect(s.succeed(fresh.attemptId, 'good', { n: 1 }, LEASE + 800).accepted).toBe(true);
    expect(stage().maps[0].output).toEqual({ workerId: 'w2', outputId: 'good' });
    expect(stageCounters(stage())).toEqual({ n: 1 });
  });

  it('rejects reports of unknown attempts', () => {
    const { s } = setup();
    expect(s.succeed('nope', 'o', {}, 0)).toEqual({ accepted: false, ...emptyStep() });
    expect(s.fail('nope', 'err', 0)).toEqual(emptyStep());
  });
});

describe('Scheduler: failures and retries', () => {
  it('gives a failed task to another live worker first, and back to the same one when none is left', () => {
    const { s } = setup({ maps: 2, reduces: 1 });
    const first = mustAssign(s, 'w1', 1);
    expect(first.index).toBe(0);
    s.fail(first.attemptId, 'boom', 2);
    expect(mustAssign(s, 'w1', 3).index).toBe(1); // not map 0 again on w1 while w2 can take it
    expect(mustAssign(s, 'w2', 4).index).toBe(0);
    const { s: lone } = setup({ maps: 1, reduces: 1 });
    lone.loseWorker('w2', 'gone', 0);
    const a = mustAssign(lone, 'w1', 1);
    lone.fail(a.attemptId, 'boom', 2);
    expect(mustAssign(lone, 'w1', 3).index).toBe(0); // w1 is the only live worker
  });

  it('starts a backup of a straggler near the end of a phase, and the first success cancels the other', () => {
    const { s, stage } = setup({ maps: 3, reduces: 1 });
    const slow = mustAssign(s, 'w1', 0);
    const quick1 = mustAssign(s, 'w2', 0);
    s.succeed(quick1.attemptId, 'o1', {}, 100);
    const quick2 = mustAssign(s, 'w2', 100);
    s.succeed(quick2.attemptId, 'o2', {}, 200);
    expect(s.assign('w2', 500).assignments).toEqual([]); // the straggler is not slow enough yet
    const backup = mustAssign(s, 'w2', 1500);
    expect([backup.kind, backup.index, backup.backup]).toEqual(['map', slow.index, true]);
    expect(stage().backupAttempts).toBe(1);
    expect(s.assign('w2', 1600).assignments).toEqual([]); // one backup per straggler
    expect(s.succeed(backup.attemptId, 'ob', {}, 1700).accepted).toBe(true);
    expect(s.heartbeat('w1', [slow.attemptId], 1800).cancels).toEqual([slow.attemptId]); // the original is cancelled
    expect(s.succeed(slow.attemptId, 'os', {}, 1900).accepted).toBe(false);
    expect(stage().maps[slow.index].output).toEqual({ workerId: 'w2', outputId: 'ob' });
  });

  it('a reduce that cannot fetch a map output sends that map back to run, without counting a failure', () => {
    const { s, stage } = setup({ maps: 2, reduces: 1, maxAttempts: 1 });
    for (let i = 0; i < 2; i++) {
      const m = mustAssign(s, i === 0 ? 'w1' : 'w2', 1);
      s.succeed(m.attemptId, `o${i}`, {}, 2);
    }
    const r = mustAssign(s, 'w2', 3);
    expect(r.kind).toBe('reduce');
    expect(s.fetchFailed(r.attemptId, [0], 'connection refused', 4)).toEqual(emptyStep());
    expect(stage().maps[0].state).toBe('pending');
    expect(stage().reduces[0].failures).toBe(0);
    expect(s.jobs.get('j')!.state).toBe('running');
    const rerun = mustAssign(s, 'w2', 5); // the barrier again: the map first
    expect([rerun.kind, rerun.index]).toEqual(['map', 0]);
    s.succeed(rerun.attemptId, 'o0b', {}, 6);
    const again = mustAssign(s, 'w2', 7);
    expect(again.kind).toBe('reduce');
    expect(again.mapOutputs![0]).toEqual({ workerId: 'w2', outputId: 'o0b' });
  });

  it('counts a map task that ran again after its output was lost once, not twice', () => {
    const { s, stage } = setup({ maps: 1, reduces: 1 });
    const m = mustAssign(s, 'w1', 1);
    s.succeed(m.attemptId, 'o', { 'map.inputRecords': 10 }, 2);
    s.loseWorker('w1', 'gone', 0);
    const again = mustAssign(s, 'w2', 3);
    expect(again.kind).toBe('map');
    s.succeed(again.attemptId, 'o2', { 'map.inputRecords': 10 }, 4);
    expect(stageCounters(stage())).toEqual({ 'map.inputRecords': 10 });
  });

  it('starts no backups for a job submitted without speculation', () => {
    const s = new Scheduler({ leaseMs: LEASE, workerTimeoutMs: WORKER_TIMEOUT });
    s.addJob('n', 1, 3, 0, false);
    s.startStage('n', splitsOf(2), 1, 0);
    s.registerWorker('w1', 0);
    s.registerWorker('w2', 0);
    mustAssign(s, 'w1', 0);
    const quick = mustAssign(s, 'w2', 0);
    s.succeed(quick.attemptId, 'o', {}, 10);
    expect(s.assign('w2', 60_000 - 1).assignments).toEqual([]);
  });

  it('retries a failing task until maxAttempts, then fails the job naming stage, kind, task and last error', () => {
    const { s, job, stage } = setup({ maps: 2, reduces: 1, maxAttempts: 3 });
    const ids: string[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      const a = mustAssign(s, attempt === 1 ? 'w1' : 'w2', attempt);
      expect([a.kind, a.index]).toEqual(['map', 0]);
      ids.push(a.attemptId);
      expect(s.fail(a.attemptId, `boom ${attempt}`, attempt)).toEqual(emptyStep());
      expect(stage().maps[0].state).toBe('pending');
      expect(job.state).toBe('running');
    }
    const last = mustAssign(s, 'w1', 3);
    expect([last.kind, last.index]).toEqual(['map', 0]);
    ids.push(last.attemptId);
    expect(new Set(ids).size).toBe(3);
    const { events } = s.fail(last.attemptId, 'boom 3', 3);
    expect(events).toHaveLength(1);
    const event = events[0];
    expect(event.type).toBe('job-failed');
    if (event.type !== 'job-failed') throw new Error('unreachable');
    expect(event.jobId).toBe('j');
    expect(event.error).toContain('stage 1');
    expect(event.error).toContain('map task 0');
    expect(event.error).toContain('boom 3');
    expect(event.error).toContain('3 times');
    expect(job.state).toBe('failed');
    expect(job.error).toBe(event.error);
    expect(job.finishedMs).toBe(3);
    expect(s.assign('w2', 4).assignments).toEqual([]);
  });

  it('names a failing reduce task in the job error', () => {
    const { s } = setup({ maps: 1, reduces: 3, maxAttempts: 1 });
    finishMaps(s, 1);
    mustAssign(s, 'w1');
    const r1 = mustAssign(s, 'w1');
    expect(r1.index).toBe(1);
    const [event] = s.fail(r1.attemptId, 'division by zero', 5).events;
    expect(event).toMatchObject({ type: 'job-failed', jobId: 'j' });
    expect(event.type === 'job-failed' && event.error).toMatch(/stage 1 reduce task 1 .*division by zero/);
  });

  it('counts failures per task: failures of different tasks do not add up', () => {
    const { s, job } = setup({ maps: 3, reduces: 1, maxAttempts: 2 });
    const running = [mustAssign(s, 'w1'), mustAssign(s, 'w1'), mustAssign(s, 'w1')];
    expect(running.map((a) => a.index)).toEqual([0, 1, 2]);
    for (const a of running) expect(s.fail(a.attemptId, 'once', 1)).toEqual(emptyStep());
    expect(job.state).toBe('running');
  });
});

describe('Scheduler: leases and lost workers', () => {
  it('fails an attempt whose lease ran out, while heartbeats that list it keep it alive', () => {
    const { s, stage } = setup({ maps: 2, reduces: 1 });
    const kept = mustAssign(s, 'w1', 0);
    const dropped = mustAssign(s, 'w1', 0);
    // the worker keeps beating, but only lists one attempt: the other's lease is not renewed
    expect(run(s, STEP, LEASE + 500, { w1: [kept.attemptId] })).toEqual([]);
    expect(s.workers.get('w1')!.alive).toBe(true);
    const map0 = stage().maps[kept.index];
    const map1 = stage().maps[dropped.index];
    expect(map0.state).toBe('running');
    expect(map0.failures).toBe(0);
    expect(map1.state).toBe('pending');
    expect(map1.failures).toBe(1);
    expect(map1.lastError).toContain('lease');
    expect(stage().failedAttempts).toBe(1);
    // the dropped attempt is unknown now: a heartbeat naming it is told to cancel it
    expect(s.heartbeat('w1', [kept.attemptId, dropped.attemptId], LEASE + 600).cancels).toEqual([dropped.attemptId]);
    // another worker cannot renew (or claim) w1's attempt
    s.registerWorker('w3', LEASE + 600);
    expect(s.heartbeat('w3', [kept.attemptId], LEASE + 600).cancels).toEqual([kept.attemptId]);
  });

  it('a lease expiry on the last allowed attempt fails the job', () => {
    const { s, job } = setup({ maps: 1, reduces: 1, maxAttempts: 1 });
    mustAssign(s, 'w1', 0);
    const events = run(s, STEP, LEASE + 500, { w1: [] });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'job-failed', jobId: 'j' });
    expect(job.state).toBe('failed');
  });

  it('a silent worker is lost: its running attempts return to pending, each loss counted but no failure', () => {
    const { s, stage, job } = setup({ maps: 2, reduces: 1, maxAttempts: 2 });
    const onW1 = mustAssign(s, 'w1', 0);
    const onW2 = mustAssign(s, 'w2', 0);
    const events = run(s, STEP, WORKER_TIMEOUT + 500, { w2: [onW2.attemptId] }, true);   // w1 says nothing
    expect(events).toEqual([
      { type: 'worker-lost', workerId: 'w1' },   // once: the master tells the other workers
      { type: 'attempt-lost', attemptId: onW1.attemptId, error: expect.stringMatching(/was lost with its worker w1 \(no heartbeat for/) },
    ]);
    expect(job.state).toBe('running');
    expect(s.workers.get('w1')!.alive).toBe(false);
    const task = stage().maps[onW1.index];
    expect(task.state).toBe('pending');
    expect([task.failures, task.losses]).toEqual([0, 1]);
    expect(stage().failedAttempts).toBe(0);
    expect(stage().maps[onW2.index].state).toBe('running');
    // the lost worker gets nothing more, and its old attempt's report is rejected
    expect(s.heartbeat('w1', [onW1.attemptId], WORKER_TIMEOUT + 600)).toEqual({ // it stops everything and registers again
      assignments: [], cancels: [onW1.attemptId], events: [{ type: 'worker-unknown', workerId: 'w1' }],
    });
    expect(s.assign('w1', WORKER_TIMEOUT + 600).assignments).toEqual([]);
    expect(s.succeed(onW1.attemptId, 'late', {}, WORKER_TIMEOUT + 700).accepted).toBe(false);
    const rerun = mustAssign(s, 'w2', WORKER_TIMEOUT + 800);
    expect([rerun.kind, rerun.index]).toEqual(['map', onW1.index]);
  });

  it('a pause of the master itself (creditPause) is no worker\'s silence', () => {
    const { s, job } = setup({ maps: 1, reduces: 1 });
    const onW1 = mustAssign(s, 'w1', 0);
    s.creditPause(WORKER_TIMEOUT + LEASE);
    expect(s.tick(WORKER_TIMEOUT + LEASE)).toEqual(emptyStep());
    expect(s.workers.get('w1')!.alive).toBe(true);
    expect(s.isRunning(onW1.attemptId)).toBe(true);
    const events = s.tick(2 * (WORKER_TIMEOUT + LEASE)).events;   // silent past the pause: lost
    expect(events.filter((e) => e.type !== 'worker-lost').map((e) => e.type)).toEqual(['attempt-lost']);
    expect(events.flatMap((e) => (e.type === 'worker-lost' ? [e.workerId] : [])).sort()).toEqual(['w1', 'w2']);
    expect(job.state).toBe('running');
  });

  it('a task lost with its worker maxAttempts times fails the job, naming the loss', () => {
    const { s, job } = setup({ maps: 1, reduces: 1, maxAttempts: 2 });
    for (const [worker, nowMs] of [['w1', 0], ['w2', 20_000]] as const) {
      const attempt = mustAssign(s, worker, nowMs);
      expect(attempt.index).toBe(0);
      s.loseWorker(worker, 'its process exited', nowMs + 1);
    }
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/^stage 1 map task 0 was lost with its worker 2 times; last error: map 0 attempt \S+ was lost with its worker w2 \(its process exited\)$/);
  });

  it("re-runs a lost worker's completed maps while the stage's reduces are not all done", () => {
    const { s, stage } = setup({ maps: 3, reduces: 2 });
    const m0 = mustAssign(s, 'w1');
    const m1 = mustAssign(s, 'w2');
    const m2 = mustAssign(s, 'w1');
    s.succeed(m0.attemptId, 'o0', {}, 1);
    s.succeed(m1.attemptId, 'o1', {}, 1);
    s.succeed(m2.attemptId, 'o2', {}, 1);
    const r0 = mustAssign(s, 'w2', 2);
    expect(s.succeed(r0.attemptId, 'r0', {}, 3).accepted).toBe(true);

    s.loseWorker('w1', 'gone', 0);
    expect(stage().maps.map((m) => m.state)).toEqual(['pending', 'done', 'pending']);
    expect(stage().maps[0].output).toBeUndefined();
    expect(stage().maps[0].failures).toBe(0);
    expect(stage().reduces[0].state).toBe('done');          // a committed reduce stays committed

    // the barrier holds again: the lost maps come before the remaining reduce
    const again0 = mustAssign(s, 'w2', 4);
    const again2 = mustAssign(s, 'w2', 4);
    expect([again0.kind, again0.index, again2.kind, again2.index]).toEqual(['map', 0, 'map', 2]);
    expect(s.assign('w2', 4).assignments).toEqual([]);
    s.succeed(again0.attemptId, 'o0b', {}, 5);
    s.succeed(again2.attemptId, 'o2b', {}, 5);
    const r1 = mustAssign(s, 'w2', 6);
    expect([r1.kind, r1.index]).toEqual(['reduce', 1]);
    expect(r1.mapOutputs).toEqual([
      { workerId: 'w2', outputId: 'o0b' },
      { workerId: 'w2', outputId: 'o1' },
      { workerId: 'w2', outputId: 'o2b' },
    ]);
  });

  it('a silent worker found by tick() also loses its completed map outputs', () => {
    const { s, stage } = setup({ maps: 2, reduces: 1 });
    const m0 = mustAssign(s, 'w1', 0);
    const m1 = mustAssign(s, 'w2', 0);
    s.succeed(m0.attemptId, 'o0', {}, 10);
    s.succeed(m1.attemptId, 'o1', {}, 10);
    expect(run(s, STEP, WORKER_TIMEOUT + 500, { w2: [] })).toEqual([]);
    expect(s.workers.get('w1')!.alive).toBe(false);
    expect(stage().maps.map((m) => m.state)).toEqual(['pending', 'done']);
    const next = mustAssign(s, 'w2', WORKER_TIMEOUT + 600);
    expect([next.kind, next.index]).toEqual(['map', 0]);
  });

  it('does not re-run maps once every reduce of the stage is done', () => {
    const { s, stage } = setup({ maps: 2, reduces: 1 });
    finishMaps(s, 2, 'w1');
    const r = mustAssign(s, 'w2', 1);
    s.succeed(r.attemptId, 'r', {}, 2);
    s.loseWorker('w1', 'gone', 0);
    expect(stage().maps.map((m) => m.state)).toEqual(['done', 'done']);
    expect(stage().maps[0].output).toEqual({ workerId: 'w1', outputId: 'out-0' });
  });

  it('a drained worker takes no new task; its attempts are moved (no failure, no loss) and it keeps its map outputs', () => {
    const { s, stage } = setup({ maps: 3, reduces: 1 });
    const done = mustAssign(s, 'w1', 0);
    s.succeed(done.attemptId, 'o0', {}, 1);
    const running = mustAssign(s, 'w1', 2);
    expect(s.drain('w1')).toEqual({ assignments: [], cancels: [], events: [{ type: 'attempt-moved', attemptId: running.attemptId, workerId: 'w1' }] });
    expect(s.migrations).toBe(1);
    expect(s.assign('w1', 3)).toEqual(emptyStep());
    expect(s.heartbeat('w1', [running.attemptId], 3).cancels).toEqual([running.attemptId]); // it stops the moved attempt
    const task = stage().maps[running.index];
    expect([task.state, task.failures, task.losses]).toEqual(['pending', 0, 0]);
    expect(stage().maps[done.index].output).toEqual({ workerId: 'w1', outputId: 'o0' });
    expect(mustAssign(s, 'w2', 4).index).toBe(running.index);
    expect(s.drain('nobody')).toEqual(emptyStep());
  });
});

describe('Scheduler: commit permission and kill', () => {
  it('mayCommit grants one attempt per task, and never a stale or unknown one', () => {
    const { s } = setup({ maps: 1, reduces: 2 });
    finishMaps(s, 1);
    const r0 = mustAssign(s, 'w1', 1);
    const r1 = mustAssign(s, 'w2', 1);
    expect(s.mayCommit(r0.attemptId)).toBe(true);
    expect(s.mayCommit(r0.attemptId)).toBe(true);            // asking again is still the same grant
    expect(s.mayCommit(r1.attemptId)).toBe(true);            // another task has its own grant
    expect(s.mayCommit('unknown')).toBe(false);
    // r0's lease runs out; its replacement is the one that may now commit, the old one not
    expect(run(s, STEP, LEASE + 500, { w1: [], w2: [r1.attemptId] })).toEqual([]);
    expect(s.mayCommit(r0.attemptId)).toBe(false);
    const again = mustAssign(s, 'w2', LEASE + 600);
    expect([again.kind, again.index]).toEqual(['reduce', 0]);
    expect(s.mayCommit(again.attemptId)).toBe(true);
    s.succeed(again.attemptId, 'r0', {}, LEASE + 700);
    expect(s.mayCommit(again.attemptId)).toBe(false);        // done: nothing more to commit
  });

  it('an attempt refused the commit is not a failure, and a task being committed gets no backup', () => {
    const { s, stage } = setup({ maps: 1, reduces: 2, maxAttempts: 2 });
    finishMaps(s, 1);
    const r0 = mustAssign(s, 'w1', 1);
    const r1 = mustAssign(s, 'w2', 1);
    s.succeed(r1.attemptId, 'r1', {}, 100);
    const backup = mustAssign(s, 'w2', 1500);                // r0 straggles: a backup of it
    expect([backup.kind, backup.index]).toEqual(['reduce', 0]);
    expect(s.mayCommit(r0.attemptId)).toBe(true);
    expect(s.mayCommit(backup.attemptId)).toBe(false);
    expect(s.fail(backup.attemptId, 'may not commit', 1600)).toEqual(emptyStep()); // not counted: the job goes on
    expect(stage().failedAttempts).toBe(0);
    expect(s.assign('w2', 1700).assignments).toEqual([]);              // r0 may commit: no second backup
    // r0's worker dies before renaming: the task runs again (after the map whose output died too) and may commit
    const later = 1500 + LEASE + WORKER_TIMEOUT;
    expect(run(s, 1700 + STEP, later, { w2: [] }).map((e) => e.type)).toEqual(['attempt-lost']); // r0, lost with w1: counted, no failure
    expect(stage().failedAttempts).toBe(0);
    const map = mustAssign(s, 'w2', later + 1);
    expect(s.succeed(map.attemptId, 'out-0b', {}, later + 2).accepted).toBe(true);
    const again = mustAssign(s, 'w2', later + 3);
    expect([again.kind, again.index]).toEqual(['reduce', 0]);
    expect(s.mayCommit(again.attemptId)).toBe(true);
  });

  it('kill() stops assignment and rejects further reports and commits', () => {
    const { s, job } = setup({ maps: 2, reduces: 1 });
    const a = mustAssign(s, 'w1', 0);
    expect(s.kill('j', 5).events).toEqual([{ type: 'job-killed', jobId: 'j' }]);
    expect(job.state).toBe('killed');
    expect(job.finishedMs).toBe(5);
    expect(s.assign('w2', 6).assignments).toEqual([]);
    expect(s.mayCommit(a.attemptId)).toBe(false);
    expect(s.succeed(a.attemptId, 'o', {}, 7).accepted).toBe(false);
    expect(s.kill('j', 8)).toEqual(emptyStep());
    expect(s.kill('no-such-job', 8)).toEqual(emptyStep());
  });

  it('a job that fails or is killed leaves no attempt running on any task', () => {
    const { s, job, stage } = setup({ maps: 2, reduces: 1, maxAttempts: 1 });
    const failing = mustAssign(s, 'w1', 0);
    mustAssign(s, 'w2', 0); // still running when the other map fails the job
    expect(s.fail(failing.attemptId, 'boom', 1).events).toEqual([expect.objectContaining({ type: 'job-failed' })]);
    expect(job.state).toBe('failed');
    expect(stage().maps.map((task) => task.running.size)).toEqual([0, 0]);
    expect(s.runningOn('w2')).toBe(0);

    const killed = setup({ maps: 2, reduces: 1 });
    mustAssign(killed.s, 'w1', 0);
    mustAssign(killed.s, 'w2', 0);
    killed.s.kill('j', 1);
    expect(killed.stage().maps.map((task) => [task.running.size, task.state])).toEqual([[0, 'pending'], [0, 'pending']]);
  });

  it('a killed job does not hold up the next job', () => {
    const { s } = setup({ maps: 1, reduces: 1 });
    s.addJob('k', 1, 3, 1);
    s.startStage('k', splitsOf(1), 1, 1);
    s.kill('j', 2);
    const a = mustAssign(s, 'w1', 3);
    expect(a.jobId).toBe('k');
  });
});

describe('Scheduler: stages', () => {
  it("emits 'stage-reduced' exactly when the last reduce succeeds, and only once", () => {
    const { s, stage } = setup({ maps: 2, reduces: 3 });
    for (let i = 0; i < 2; i++) {
      const m = mustAssign(s, 'w1');
      expect(s.succeed(m.attemptId, `o${i}`, {}, 1).events).toEqual([]);
    }
    const reduces = [mustAssign(s, 'w1', 2), mustAssign(s, 'w2', 2), mustAssign(s, 'w1', 2)];
    expect(s.succeed(reduces[2].attemptId, 'r2', {}, 3).events).toEqual([]);
    expect(s.succeed(reduces[0].attemptId, 'r0', {}, 4).events).toEqual([]);
    expect(stage().reduceDoneMs).toBeUndefined();
    const last = s.succeed(reduces[1].attemptId, 'r1', {}, 5);
    expect(last).toEqual({ accepted: true, assignments: [], cancels: [], events: [{ type: 'stage-reduced', jobId: 'j', stage: 1 }] });
    expect(stage().reduceDoneMs).toBe(5);
    expect(stage().mapDoneMs).toBe(1);
    expect(s.succeed(reduces[1].attemptId, 'r1', {}, 6).events).toEqual([]);
  });

  it('a single-stage job succeeds on completeStage()', () => {
    const { s, job } = setup({ maps: 1, reduces: 1 });
    finishMaps(s, 1);
    const r = mustAssign(s, 'w1', 1);
    s.succeed(r.attemptId, 'r', {}, 2);
    s.completeStage('j', 3);
    expect(job.state).toBe('succeeded');
    expect(job.finishedMs).toBe(3);
  });

  it('a two-stage job awaits its second stage after the first, and succeeds after the second', () => {
    const { s, job } = setup({ maps: 2, reduces: 1, stageCount: 2 });
    finishMaps(s, 2, 'w1', 1);
    const r = mustAssign(s, 'w2', 2);
    expect(s.succeed(r.attemptId, 'r', {}, 3).events).toEqual([{ type: 'stage-reduced', jobId: 'j', stage: 1 }]);
    s.completeStage('j', 4);
    expect(job.state).toBe('running');
    expect(job.awaitingStage).toBe(true);
    expect(job.finishedMs).toBeUndefined();
    expect(s.assign('w1', 5).assignments).toEqual([]);              // nothing to do between stages

    const next = splitsOf(3);
    s.startStage('j', next, 2, 6);
    expect(job.awaitingStage).toBe(false);
    expect(job.stages).toHaveLength(2);
    const m = mustAssign(s, 'w1', 7);
    expect([m.stage, m.kind, m.index]).toEqual([2, 'map', 0]);
    expect(m.splits).toEqual(next[0]);
    expect(m.attemptId).not.toBe(r.attemptId);
    s.succeed(m.attemptId, 'o', {}, 8);
    finishMaps(s, 2, 'w1', 8);
    const r0 = mustAssign(s, 'w1', 9);
    const r1 = mustAssign(s, 'w2', 9);
    expect([r0.stage, r0.kind, r1.stage, r1.kind]).toEqual([2, 'reduce', 2, 'reduce']);
    expect(s.succeed(r0.attemptId, 'x', {}, 10).events).toEqual([]);
    expect(s.succeed(r1.attemptId, 'y', {}, 11).events).toEqual([{ type: 'stage-reduced', jobId: 'j', stage: 2 }]);
    s.completeStage('j', 12);
    expect(job.state).toBe('succeeded');
    expect(job.finishedMs).toBe(12);
  });

  it('startStage() does nothing while the job is not awaiting a stage', () => {
    const { s, job } = setup({ maps: 1, reduces: 1, stageCount: 2 });
    s.startStage('j', splitsOf(5), 1, 1);
    expect(job.stages).toHaveLength(1);
    expect(job.stages[0].maps).toHaveLength(1);
  });

  // A kill() can land between 'stage-reduced' and the master's completeStage() (commit I/O in between).
  it('completeStage() after kill() leaves the job killed', () => {
    const { s, job } = setup({ maps: 1, reduces: 1 });
    finishMaps(s, 1);
    const r = mustAssign(s, 'w1', 1);
    expect(s.succeed(r.attemptId, 'r', {}, 2).events).toHaveLength(1);
    expect(s.kill('j', 3).events).toEqual([{ type: 'job-killed', jobId: 'j' }]);
    s.completeStage('j', 4);
    expect(job.state).toBe('killed');
  });
});
