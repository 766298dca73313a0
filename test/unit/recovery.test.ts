// Replaying the master's journal rebuilds jobs, stages and committed tasks, and says what is left to do.
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler.ts';
import { stageCounters } from '../../src/core/task-table.ts';
import type { JournalRecord } from '../../src/master/journal.ts';
import { replay, type RecoveredState } from '../../src/master/recovery.ts';
import type { JobSpec } from '../../src/wires/messages.ts';

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  jobPath: '/j.ts', inputFiles: ['/in.txt'], outputDir: '/out', reducers: 1, inputMode: 'lines', options: {},
  splitBytes: 0, sortBufferBytes: 1 << 20, maxAttempts: 4, speculation: true, parallelism: 2, jobHash: '', noPacking: false, checkpointMs: 0, ...over,
});
const split = (i: number) => ({ path: '/in.txt', start: i * 10, end: i * 10 + 10, wholeFile: false });

function fresh(): { scheduler: Scheduler; state: RecoveredState } {
  return { scheduler: new Scheduler({ leaseMs: 1000, workerTimeoutMs: 1000 }), state: { specs: new Map(), files: new Map(), workerAddresses: new Map(), uploads: new Map() } };
}

describe('journal replay', () => {
  it('keeps committed map tasks done with their outputs, and the rest pending', () => {
    const records: JournalRecord[] = [
      { t: 'epoch', epoch: 1 },
      { t: 'worker', workerId: 'w1', address: '127.0.0.1:1' },
      { t: 'job', jobId: 'j', stages: [spec()] },
      { t: 'stage-start', jobId: 'j', stage: 1, splits: [split(0), split(1), split(2)], reducers: 1 },
      { t: 'task-done', jobId: 'j', stage: 1, kind: 'map', index: 1, output: { workerId: 'w1', outputId: 'o1' }, counters: { n: 5 }, durationMs: 3,
        partitionBytes: [120], partitionRecords: [7] },
    ];
    const { scheduler, state } = fresh();
    const recovery = replay(records, scheduler, state, 100);
    expect(recovery).toEqual({ epoch: 1, toCommit: [], toStart: [] });
    const stage = scheduler.jobs.get('j')!.stages[0];
    expect(stage.maps.map((m) => m.state)).toEqual(['pending', 'done', 'pending']);
    expect(stage.maps[1].output).toEqual({ workerId: 'w1', outputId: 'o1' });
    expect(stageCounters(stage)).toEqual({ n: 5 });
    expect([stage.maps[1].partitionBytes, stage.maps[1].partitionRecords]).toEqual([[120], [7]]); // each reducer's input, as before the crash
    expect(state.workerAddresses.get('w1')).toBe('127.0.0.1:1');
    scheduler.setEpoch(2);
    expect(scheduler.assign('w1', 101).assignments[0].attemptId).toBe('j.s1.map-0.e2.a1'); // never an id of the previous run
  });

  it('reports a stage whose reduces all committed but whose _SUCCESS may be missing, and a chain between stages', () => {
    const { scheduler, state } = fresh();
    const recovery = replay([
      { t: 'job', jobId: 'a', stages: [spec()] },
      { t: 'stage-start', jobId: 'a', stage: 1, splits: [split(0)], reducers: 1 },
      { t: 'task-done', jobId: 'a', stage: 1, kind: 'map', index: 0, output: { workerId: 'w', outputId: 'o' }, counters: {}, durationMs: 1 },
      { t: 'task-done', jobId: 'a', stage: 1, kind: 'reduce', index: 0, counters: {}, durationMs: 1 },
      { t: 'job', jobId: 'b', stages: [spec(), spec()] },
      { t: 'stage-start', jobId: 'b', stage: 1, splits: [split(0)], reducers: 1 },
      { t: 'task-done', jobId: 'b', stage: 1, kind: 'map', index: 0, output: { workerId: 'w', outputId: 'o' }, counters: {}, durationMs: 1 },
      { t: 'task-done', jobId: 'b', stage: 1, kind: 'reduce', index: 0, counters: {}, durationMs: 1 },
      { t: 'stage-done', jobId: 'b', stage: 1, files: ['/out/stage-1/part-r-00000'] },
      { t: 'job', jobId: 'c', stages: [spec()] },
      { t: 'job-end', jobId: 'c', state: 'killed' },
    ], scheduler, state, 5);
    expect(recovery.toCommit).toEqual([{ jobId: 'a', stage: 1 }]);
    expect(recovery.toStart).toEqual([{ jobId: 'b', inputs: ['/out/stage-1/part-r-00000'] }]);
    expect(scheduler.jobs.get('c')!.state).toBe('killed');
  });
});
