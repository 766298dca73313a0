// The master's metrics: figures read from the scheduler's state, counters fed by attempts' ends.
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler.ts';
import { MasterMetrics, jobCounts, kindOfTask, queueLength, taskRows } from '../../src/master/metrics.ts';
import type { AttemptLog } from '../../src/wires/messages.ts';

const split = (i: number) => ({ path: `/in/${i}`, start: 0, end: 10, wholeFile: false });

function schedulerWithJob(): Scheduler {
  const scheduler = new Scheduler({ leaseMs: 30_000, workerTimeoutMs: 10_000 });
  scheduler.addJob('j1', 1, 4, 0);
  scheduler.startStage('j1', [[split(0)], [split(1)], [split(2)]], 2, 0);
  scheduler.registerWorker('w1', 0);
  return scheduler;
}

const attempt = (over: Partial<AttemptLog>): AttemptLog =>
  ({ attemptId: 'a1', task: 's1.map-0', workerId: 'w1', state: 'succeeded', error: '', log: '', startedMs: 1000, endedMs: 3000, backup: false, ...over });

describe('metric figures', () => {
  it('counts tasks by job, stage, kind and state, and the tasks waiting for a worker', () => {
    const scheduler = schedulerWithJob();
    expect(queueLength(scheduler.jobs.values())).toBe(3); // the reduces wait for the maps, not for a worker
    const assigned = scheduler.assign('w1', 10).assignments[0];
    expect(assigned.kind).toBe('map');
    const rows = taskRows(scheduler.jobs.values());
    const value = (kind: string, state: string) => rows.find((r) => r.labels.kind === kind && r.labels.state === state)?.value;
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => r.labels.job === 'j1' && r.labels.stage === '1')).toBe(true);
    expect([value('map', 'pending'), value('map', 'running'), value('map', 'done')]).toEqual([2, 1, 0]);
    expect([value('reduce', 'pending'), value('reduce', 'running'), value('reduce', 'done')]).toEqual([2, 0, 0]);
    expect(queueLength(scheduler.jobs.values())).toBe(2);
    expect(jobCounts(scheduler.jobs.values())).toEqual({ queued: 0, running: 1, succeeded: 0, failed: 0, killed: 0 });
  });

  it('knows a task kind by its name', () => {
    expect(kindOfTask('s1.map-0')).toBe('map');
    expect(kindOfTask('s12.reduce-31')).toBe('reduce');
    expect(kindOfTask('s1.combine-0')).toBeUndefined();
  });
});

describe('MasterMetrics', () => {
  it('counts ended attempts by kind and outcome, failures, shuffle bytes and task durations', async () => {
    const metrics = new MasterMetrics(() => 10_000);
    const scheduler = schedulerWithJob();
    metrics.attach({ scheduler });
    metrics.attemptEnded(attempt({ attemptId: 'm1' }), {});
    metrics.attemptEnded(attempt({ attemptId: 'm2', state: 'failed', error: 'boom' }), {});
    metrics.attemptEnded(attempt({ attemptId: 'r1', task: 's1.reduce-0', startedMs: 0, endedMs: 500 }), { 'shuffle.bytes': 1234 });
    metrics.attemptEnded(attempt({ attemptId: 'r2', task: 's1.reduce-0', state: 'rejected' }), { 'shuffle.bytes': 99 });
    metrics.attemptEnded(attempt({ attemptId: 'gone', state: 'lost' }), {});
    metrics.attemptEnded(attempt({ attemptId: 'late', state: 'cancelled' }), {});
    const text = await metrics.metrics();
    expect(text).toContain('mr_attempts_total{kind="map",outcome="succeeded"} 1\n');
    expect(text).toContain('mr_attempts_total{kind="map",outcome="failed"} 1\n');
    expect(text).toContain('mr_attempts_total{kind="reduce",outcome="rejected"} 1\n');
    expect(text).toContain('mr_attempts_total{kind="map",outcome="lost"} 1\n');
    expect(text).toContain('mr_attempts_total{kind="map",outcome="cancelled"} 1\n');
    expect(text).toContain('mr_attempts_total{kind="reduce",outcome="cancelled"} 0\n');
    expect(text).toContain('mr_attempt_failures_total{kind="map"} 1\n');
    expect(text).toContain('mr_attempt_failures_total{kind="reduce"} 0\n');
    expect(text).toContain('mr_shuffle_bytes_total 1234\n'); // the committed attempt's only
    expect(text).toContain('mr_task_duration_seconds_count{kind="map"} 1\n');
    expect(text).toContain('mr_task_duration_seconds_sum{kind="reduce"} 0.5\n');
    expect(text).toContain('mr_tasks{job="j1",stage="1",kind="map",state="pending"} 3\n');
    expect(text).toContain('mr_queue_length 3\n');
    expect(text).toContain('mr_jobs{state="running"} 1\n');
    expect(text).toContain('mr_worker_heartbeat_age_seconds{worker="w1"} 10\n');
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });
});
