// The master and its scheduler with hundreds to thousands of workers, simulated on logical time:
// the real Master (src/master/master.ts) is called directly, no sockets, by simulated workers
// that ask for tasks, "run" each for --task-ms of logical time, report it and heartbeat every
// second; the test's clock moves in the master's own steps and beats its tick. One worker dies
// part way through. Measures the master's own time per task handed out, per heartbeat and per
// tick, its heap, and the logical time it takes to notice the dead worker and give its task to
// another. Prints a table and writes bench/results/scale-<commit>.json; asserts nothing.
//
//   npm run bench:scale -- [--workers 100,1000,5000] [--tasks 20000] [--reducers 100] [--task-ms 2000]
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { partFileName } from '../src/core/record-codec.ts';
import { silentLogger } from '../src/log.ts';
import { Master } from '../src/master/master.ts';
import type * as M from '../src/wires/messages.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const STEP_MS = 250;            // the master's own tick
const HEARTBEAT_MS = 1000;
const WORKER_TIMEOUT_MS = 10_000;
const MIB = 1 << 20;

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '100,1000,5000' }, tasks: { type: 'string', default: '20000' },
    reducers: { type: 'string', default: '100' }, 'task-ms': { type: 'string', default: '2000' },
  },
});

interface SimWorker {
  id: string;
  task?: M.Task;
  doneAtMs: number;
  nextBeatMs: number;
  alive: boolean;
}

interface Figures {
  workers: number;
  mapTasks: number;
  reduceTasks: number;
  logicalS: number;
  handedOut: number;
  assignUs: number;         // master time of a request that was handed a task (the scheduling decision)
  idlePollUs: number;       // of one that got nothing (every idle worker asks at every step here)
  reportUs: number;         // of a report (a map's commit, or a reduce's commit and report)
  heartbeats: number;
  heartbeatUs: number;
  ticks: number;
  tickUs: number;
  heapMib: number;
  deadNoticedMs: number;    // logical: from the worker's death to its task handed to another
}

function time<T>(into: { us: number }, call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  return call().finally(() => (into.us += (performance.now() - started) * 1000));
}

async function simulate(workerCount: number, mapTasks: number, reducers: number, taskMs: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'mr-scale-'));
  try {
    // One sparse file of mapTasks MiB, cut in 1 MiB splits: the master stats it, never reads it.
    const input = join(dir, 'input.txt');
    const fd = openSync(input, 'w');
    ftruncateSync(fd, mapTasks * MIB);
    closeSync(fd);
    const clock = { nowMs: 1_000_000 };
    const master = new Master({ log: silentLogger, now: () => clock.nowMs, workerTimeoutMs: WORKER_TIMEOUT_MS, leaseMs: 30_000, heartbeatIntervalMs: HEARTBEAT_MS, taskTimeoutMs: 0 });
    const outputDir = join(dir, 'out');
    const spec: M.JobSpec = {
      jobPath: join(dir, 'job.ts'), inputFiles: [input], outputDir, reducers, inputMode: 'lines', options: {}, splitBytes: MIB, sortBufferBytes: 0,
      maxAttempts: 4, speculation: false, parallelism: 0, jobHash: '', noPacking: true, checkpointMs: 0,
    };
    const workers: SimWorker[] = Array.from({ length: workerCount }, (_, i) => ({ id: `w${i}`, doneAtMs: 0, nextBeatMs: clock.nowMs + (i % 4) * STEP_MS, alive: true }));
    for (const [i, w] of workers.entries()) await master.registerWorker({ workerId: w.id, address: `sim:${w.id}`, slots: 1, pid: 10_000 + i, hasNode: false, node: 0 });
    const { jobId } = await master.submitJob({ jobId: '', stages: [spec] });
    const assigning = { us: 0 };
    const polling = { us: 0 };
    const reporting = { us: 0 };
    let polls = 0;
    let reports = 0;
    const beating = { us: 0 };
    const ticking = { us: 0 };
    let handedOut = 0;
    let heartbeats = 0;
    let ticks = 0;
    let reducesDone = 0;
    let victim: { worker: SimWorker; task: M.Task; diedAtMs: number } | undefined;
    let deadNoticedMs = -1;
    const startMs = clock.nowMs;
    for (let step = 0; reducesDone < reducers; step++) {
      if (step > 2_000_000) throw new Error('the simulation did not end');
      clock.nowMs += STEP_MS;
      for (const w of workers) {
        if (!w.alive) continue;
        if (w.task && clock.nowMs >= w.doneAtMs) {
          const task = w.task;
          w.task = undefined;
          if (task.kind === 'reduce') {
            writeFileSync(join(task.spec!.outputDir, partFileName(task.taskIndex)), '');
            await time(reporting, () => master.commitAttempt({ workerId: w.id, attemptId: task.attemptId }));
          }
          reports++;
          await time(reporting, () => master.reportAttempt({
            workerId: w.id, attemptId: task.attemptId, ok: true, error: '', outputId: task.kind === 'map' ? `o-${task.attemptId}` : '', counters: {},
            partitionBytes: task.kind === 'map' ? Array.from({ length: reducers }, () => 1) : [], stats: null, log: '', lostMapTasks: [], wantTask: false,
            partitionRecords: [], ownDeath: false, pendingUpload: null,
          }));
          if (task.kind === 'reduce') reducesDone++;
        }
        if (!w.task) {
          const asked = { us: 0 };
          const reply = await time(asked, () => master.requestTask({ workerId: w.id, waitMs: 0, requestId: '', maxTasks: 1 }));
          if (reply.task) assigning.us += asked.us;
          else {
            polling.us += asked.us;
            polls++;
          }
          if (reply.task) {
            w.task = reply.task;
            w.doneAtMs = clock.nowMs + taskMs;
            handedOut++;
            // The dead worker's task, handed to another: noticed.
            if (victim && deadNoticedMs < 0 && reply.task.kind === victim.task.kind && reply.task.taskIndex === victim.task.taskIndex && reply.task.stage === victim.task.stage) {
              deadNoticedMs = clock.nowMs - victim.diedAtMs;
            }
          }
        }
        if (clock.nowMs >= w.nextBeatMs) {
          w.nextBeatMs += HEARTBEAT_MS;
          heartbeats++;
          await time(beating, () => master.heartbeat({ workerId: w.id, runningAttempts: w.task ? [w.task.attemptId] : [], stats: null, progress: [], busy: false }));
        }
      }
      // A third of the way through the maps, a busy worker dies (no more heartbeats or reports).
      if (!victim && handedOut >= mapTasks / 3) {
        const worker = workers.find((w) => w.task?.kind === 'map')!;
        victim = { worker, task: worker.task!, diedAtMs: clock.nowMs };
        worker.alive = false;
      }
      ticks++;
      await time(ticking, () => master.tick());
    }
    const status = await master.getJobStatus({ jobId });
    if (status.state !== 'succeeded') throw new Error(`the simulated job ended ${status.state}: ${status.error}`);
    master.stop();
    (globalThis as { gc?: () => void }).gc?.();
    const heapMib = process.memoryUsage().heapUsed / MIB;
    return {
      workers: workerCount, mapTasks, reduceTasks: reducers, logicalS: (clock.nowMs - startMs) / 1000, handedOut,
      assignUs: assigning.us / handedOut, idlePollUs: polling.us / Math.max(1, polls), reportUs: reporting.us / reports, heartbeats, heartbeatUs: beating.us / heartbeats, ticks, tickUs: ticking.us / ticks, heapMib, deadNoticedMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Figures[] = [];
for (const workers of values.workers.split(',').map(Number)) {
  for (const tasks of values.tasks.split(',').map(Number)) {
    const figures = await simulate(workers, tasks, Number(values.reducers), Number(values['task-ms']));
    rows.push(figures);
    process.stderr.write(`${JSON.stringify(figures)}\n`);
  }
}
const lines = [
  '| workers | map tasks | logical s | us per task handed out | us per empty poll | us per report | tasks per s of master time (hand out + report) | us per heartbeat | us per tick | heap MiB | dead worker noticed, logical ms |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.workers} | ${r.mapTasks} | ${r.logicalS.toFixed(0)} | ${r.assignUs.toFixed(1)} | ${r.idlePollUs.toFixed(1)} | ${r.reportUs.toFixed(1)} | ${Math.round(1e6 / (r.assignUs + r.reportUs))} | ${r.heartbeatUs.toFixed(1)} | ${r.tickUs.toFixed(0)} | ${r.heapMib.toFixed(0)} | ${r.deadNoticedMs} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', `scale-${commit}-workers-${values.workers.replaceAll(',', '_')}-tasks-${values.tasks.replaceAll(',', '_')}.json`), `${JSON.stringify({ commit, rows }, null, 2)}\n`);
