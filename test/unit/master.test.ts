// The master on its own: constructed directly, served over the memory transport (every message
// encoded as on the wire), driven by fake workers through its RPCs, with a fake clock and its
// tick beaten by the test. No CLI, no processes.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { partFileName } from '../../src/core/record-codec.ts';
import { silentLogger } from '../../src/log.ts';
import { Master } from '../../src/master/master.ts';
import { SUCCESS_FILE } from '../../src/master/stage-output.ts';
import { createTransport } from '../../src/backends/index.ts';
import type { MasterClient, Server } from '../../src/wires/index.ts';
import type * as M from '../../src/wires/messages.ts';

const WORKER_TIMEOUT_MS = 1_000;
const LEASE_MS = 1_500; // outlasts the worker timeout, as the defaults do: a silent worker is lost before its leases run out
const STEP_MS = 250;    // the master's own tick interval: a longer gap would be taken for a pause of the master

interface Harness {
  master: Master;
  client: MasterClient;
  dir: string;
  clock: { nowMs: number };
  submit(files: number, reducers: number): Promise<{ jobId: string; outputDir: string }>;
  register(workerId: string): Promise<M.RegisterWorkerReply>;
  task(workerId: string): Promise<M.Task | undefined>;
  finish(workerId: string, task: M.Task, extra?: Partial<M.AttemptReport>): Promise<M.AttemptReportReply>;
  close(): Promise<void>;
}

let h: Harness;

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mr-master-'));
  const clock = { nowMs: 1_000_000 };
  const master = new Master({ log: silentLogger, now: () => clock.nowMs, workerTimeoutMs: WORKER_TIMEOUT_MS, leaseMs: LEASE_MS, heartbeatIntervalMs: 100 });
  const transport = createTransport('memory')!;
  const server: Server = await transport.serveMaster(master, '');
  const client = transport.connectMaster(server.address);
  let jobs = 0;
  let pids = 100;
  return {
    master, client, dir, clock,
    async submit(files, reducers) {
      const inputFiles = Array.from({ length: files }, (_, i) => {
        const path = join(dir, `in-${jobs}-${i}.txt`);
        writeFileSync(path, `line ${i} a\nline ${i} b\n`);
        return path;
      });
      const outputDir = join(dir, `out-${jobs++}`);
      const spec: M.JobSpec = {
        jobPath: join(dir, 'job.ts'), inputFiles, outputDir, reducers, inputMode: 'lines', options: {},
        splitBytes: 1 << 20, sortBufferBytes: 0, maxAttempts: 4, speculation: false, parallelism: 0, jobHash: '', noPacking: true, checkpointMs: 0, // one split per file, no backups
      };
      const { jobId } = await client.submitJob({ jobId: '', stages: [spec] });
      return { jobId, outputDir };
    },
    register: (workerId) => client.registerWorker({ workerId, address: `memory:${workerId}`, slots: 1, pid: pids++, hasNode: false, node: 0 }),
    async task(workerId) {
      return (await client.requestTask({ workerId, waitMs: 0, requestId: '', maxTasks: 1 })).task ?? undefined;
    },
    async finish(workerId, task, extra = {}) {
      if (task.kind === 'reduce') {
        // A reduce writes its part file, then asks to commit it, as reduce-task.ts does.
        writeFileSync(join(task.spec!.outputDir, partFileName(task.taskIndex)), `reduced ${task.taskIndex}\n`);
        expect((await client.commitAttempt({ workerId, attemptId: task.attemptId })).allowed).toBe(true);
      }
      return client.reportAttempt({
        workerId, attemptId: task.attemptId, ok: true, error: '', outputId: task.kind === 'map' ? `out-${task.attemptId}` : '',
        counters: {}, partitionBytes: task.kind === 'map' ? [10, 10] : [], stats: null, log: '', lostMapTasks: [], wantTask: false, partitionRecords: [], ownDeath: false, pendingUpload: null, ...extra,
      });
    },
    async close() {
      client.close();
      master.stop();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Moves the fake clock on in the master's own steps, beating its tick; the named workers heartbeat at each step. */
async function advance(byMs: number, beating: Record<string, string[]>): Promise<void> {
  for (let t = 0; t < byMs; t += STEP_MS) {
    h.clock.nowMs += STEP_MS;
    for (const [workerId, runningAttempts] of Object.entries(beating)) await h.client.heartbeat({ workerId, runningAttempts, stats: null, progress: [], busy: false });
    await h.master.tick();
  }
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }); // the master's own ticker never beats: the test does
  h = await harness();
});

afterEach(async () => {
  await h.close();
  vi.useRealTimers();
});

describe('Master', () => {
  it('runs a job through two workers: maps, then reduces (one riding on a report\'s reply), then _SUCCESS', async () => {
    expect((await h.register('w1')).node).toBe(0);
    expect((await h.register('w2')).node).toBe(1);
    const { jobId, outputDir } = await h.submit(2, 2);
    const m0 = (await h.task('w1'))!;
    const m1 = (await h.task('w2'))!;
    expect([m0.kind, m0.taskIndex, m1.kind, m1.taskIndex]).toEqual(['map', 0, 'map', 1]);
    expect(m0.splits[0]?.path).toMatch(/in-0-0\.txt$/);
    expect(await h.task('w1')).toBeUndefined(); // the barrier: no reduce while a map runs

    const nothing = await h.finish('w1', m0, { wantTask: true });
    expect([nothing.accepted, nothing.next ?? undefined]).toEqual([true, undefined]); // nothing to carry yet
    const reply = await h.finish('w2', m1, { wantTask: true });
    expect(reply.accepted).toBe(true);
    const r0 = reply.next?.task;
    expect([r0?.kind, r0?.taskIndex]).toEqual(['reduce', 0]);
    expect(r0?.mapOutputs.map((o) => [o.mapTask, o.outputId, o.workerAddress])).toEqual([
      [0, `out-${m0.attemptId}`, 'memory:w1'], [1, `out-${m1.attemptId}`, 'memory:w2'],
    ]);
    const r1 = (await h.task('w1'))!;
    expect([r1.kind, r1.taskIndex]).toEqual(['reduce', 1]);

    expect((await h.finish('w2', r0!)).accepted).toBe(true);
    expect(existsSync(join(outputDir, SUCCESS_FILE))).toBe(false);
    expect((await h.finish('w1', r1)).accepted).toBe(true);
    expect(existsSync(join(outputDir, SUCCESS_FILE))).toBe(true);

    const status = await h.client.getJobStatus({ jobId });
    expect(status.state).toBe('succeeded');
    expect(status.files).toEqual([0, 1].map((r) => join(outputDir, partFileName(r))));
    const logs = (await h.client.getJobLogs({ jobId, task: '' })).attempts;
    expect(logs.map((a) => [a.task, a.state])).toEqual([
      ['s1.map-0', 'succeeded'], ['s1.map-1', 'succeeded'], ['s1.reduce-0', 'succeeded'], ['s1.reduce-1', 'succeeded'],
    ]);
    expect((await h.client.listJobs({})).jobs.map((j) => j.jobId)).toEqual([jobId]);
  });

  it('a worker silent past the worker timeout loses its attempt, which runs again on another worker', async () => {
    await h.register('w1');
    await h.register('w2');
    const { jobId, outputDir } = await h.submit(1, 1);
    const map = (await h.task('w1'))!;
    await advance(WORKER_TIMEOUT_MS - STEP_MS, { w1: [map.attemptId], w2: [] });
    expect(await h.task('w2')).toBeUndefined(); // w1 still beats: its attempt is its own

    await advance(WORKER_TIMEOUT_MS + STEP_MS, { w2: [] }); // w1 falls silent
    const logs = (await h.client.getJobLogs({ jobId, task: '' })).attempts;
    expect(logs).toEqual([expect.objectContaining({ attemptId: map.attemptId, state: 'lost', error: expect.stringMatching(/lost with its worker w1 \(no heartbeat/) })]);
    const again = (await h.task('w2'))!;
    expect([again.kind, again.taskIndex]).toEqual(['map', 0]);
    expect(again.attemptId).not.toBe(map.attemptId);

    // The silent worker comes back: it is told to re-register, and its late report is refused.
    expect((await h.client.heartbeat({ workerId: 'w1', runningAttempts: [map.attemptId], stats: null, progress: [], busy: false })).reregister).toBe(true);
    expect((await h.finish('w1', map)).accepted).toBe(false);
    expect((await h.finish('w2', again)).accepted).toBe(true);
    expect((await h.finish('w2', (await h.task('w2'))!)).accepted).toBe(true);
    expect((await h.client.getJobStatus({ jobId })).state).toBe('succeeded');
    expect(existsSync(join(outputDir, SUCCESS_FILE))).toBe(true);
  });

  it('a report that comes twice is taken once: the same reply, the same next task, one outcome', async () => {
    await h.register('w1');
    const { jobId } = await h.submit(2, 1);
    const m0 = (await h.task('w1'))!;
    const [first, second] = await Promise.all([h.finish('w1', m0, { wantTask: true }), h.finish('w1', m0, { wantTask: true })]);
    const third = await h.finish('w1', m0, { wantTask: true });
    expect(first.accepted).toBe(true);
    expect(first.next?.task?.taskIndex).toBe(1);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await h.task('w1')).toBeUndefined(); // the repeats took no task of their own
    const logs = (await h.client.getJobLogs({ jobId, task: '' })).attempts;
    expect(logs.map((a) => [a.attemptId, a.state])).toEqual([[m0.attemptId, 'succeeded'], [first.next!.task!.attemptId, 'running']]);
    expect(h.master.scheduler.jobs.get(jobId)!.stages[0].maps[0].attemptsStarted).toBe(1);
  });

  it('hands out tiny maps in batches once their run time is known; a batch request or report asked again gets the same reply', async () => {
    await h.register('w1');
    const { jobId } = await h.submit(40, 1);
    const first = (await h.task('w1'))!;                 // nothing timed yet: one task
    const batchOf = (reply: M.TaskReply) => [reply.task!, ...reply.moreTasks];
    const reports = (tasks: M.Task[], requestId: string, wantTasks: number) => h.client.reportAttempts({
      workerId: 'w1', requestId, wantTasks,
      reports: tasks.map((task) => ({
        workerId: 'w1', attemptId: task.attemptId, ok: true, error: '', outputId: `out-${task.attemptId}`, counters: { 'time.mapMs': 1 },
        partitionBytes: [10], stats: null, log: '', lostMapTasks: [], wantTask: false, partitionRecords: [1], ownDeath: false, pendingUpload: null,
      })),
    });
    const one = await reports([first], 'r1', 64);
    expect(one.accepted).toEqual([true]);
    const batch = batchOf(one.next!);
    expect(batch.length).toBeGreaterThan(1);           // 1 ms a task: a batch, a fair share of the 39 left
    expect(batch.length).toBeLessThanOrEqual(39 / 4);
    expect(await reports([first], 'r1', 64)).toEqual(one); // the same call again: the same batch, none taken twice
    // Every attempt of the batch is leased: heartbeats naming them (queued) keep them through the lease.
    await advance(LEASE_MS + 1000, { w1: batch.map((t) => t.attemptId) });
    const job = h.master.scheduler.jobs.get(jobId)!;
    expect(batch.every((t) => h.master.scheduler.isRunning(t.attemptId))).toBe(true);
    const two = await reports(batch, 'r2', 64);
    expect(two.accepted).toEqual(batch.map(() => true));
    expect(await reports(batch.slice(0, 1), 'r3', 0)).toEqual({ accepted: [true], next: null }); // a report again: still accepted, nothing more
    expect(job.stages[0].mapTally.done).toBe(1 + batch.length);
    expect(job.stages[0].maps.every((m) => m.attemptsStarted <= 1)).toBe(true);
  });

  it('a worker waiting in its long poll is handed a task as soon as a job comes', async () => {
    await h.register('w1');
    const waiting = h.client.requestTask({ workerId: 'w1', waitMs: 60_000, requestId: '', maxTasks: 1 });
    await h.submit(1, 1);
    const reply = await waiting;
    expect([reply.task?.kind, reply.task?.taskIndex]).toEqual(['map', 0]);
  });

  it('refuses a stage that makes no sense before anything is started for it', async () => {
    const spec = { jobPath: 'job.ts', inputFiles: [join(h.dir, 'x')], outputDir: join(h.dir, 'out'), reducers: 1, inputMode: 'lines' } as M.JobSpec;
    await expect(h.master.submitJob({ jobId: 'bad', stages: [spec] })).rejects.toThrow(/stage 1: the job path is not absolute/);
    expect(h.master.hasJob('bad')).toBe(false);
  });
});
