// The butterfly's task board: a slot's states as each side changes them, a request or reply too
// large for its slot, deadlines and closing; the barrier counting each map task once; the keeper
// answering processors in real worker threads, a held long poll holding up no other slot.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { startThread } from '../../src/thread-entry.ts';
import { BoardCalls } from '../../src/backends/butterfly/board-calls.ts';
import { keepBoard } from '../../src/backends/butterfly/board-keeper.ts';
import { MAP_BITS, STAGE_ENTRIES, arrivals, arrive, awaitArrivals, countedMaps, stageKey } from '../../src/backends/butterfly/stage-barrier.ts';
import {
  BoardSlot, CLOSED, EMPTY, OVERSIZE, POSTED, REQUESTED, SERVING, TAKEN, TASK_SLOT, REPORT_SLOT,
  createBoardMemory, doorbell, stageTable,
} from '../../src/backends/butterfly/task-board.ts';
import { TransportUnavailableError } from '../../src/wires/unavailable.ts';
import { StageSync } from '../../src/backends/butterfly/stage-sync.ts';
import { DEFAULT_BUTTERFLY_MODEL } from '../../src/backends/butterfly/butterfly-model.ts';
import { createFabricMemory, fabricPort, readFabric } from '../../src/backends/butterfly/switch-fabric.ts';
import type { Task } from '../../src/wires/messages.ts';

const BOARD_THREAD = new URL('../fixtures/butterfly-board-thread.ts', import.meta.url);
const IDLE_KEEPER = fileURLToPath(new URL('../fixtures/butterfly-board-idle.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../bin/tsx.mjs', import.meta.url));
const threads: Worker[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.terminate()));
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const untext = (b: Uint8Array): string => new TextDecoder().decode(b);
const soon = (ms = 5000): number => Date.now() + ms;

function meter(): { charge: (bytes: number) => void; bytes: () => number; touches: () => number } {
  let bytes = 0;
  let touches = 0;
  return { charge: (n) => ((bytes += n), touches++), bytes: () => bytes, touches: () => touches };
}

describe('a board slot', () => {
  it('goes EMPTY -> REQUESTED -> SERVING -> POSTED -> TAKEN, rings the doorbell, and charges every touch', async () => {
    const board = createBoardMemory(4, 256);
    const slot = new BoardSlot(board, 2, TASK_SLOT);
    const master = new BoardSlot(board, 2, TASK_SLOT);
    const m = meter();
    expect(slot.state()).toBe(EMPTY);
    expect(slot.post('requestTask', text('give me work'), m.charge)).toBe('posted');
    expect(slot.state()).toBe(REQUESTED);
    expect(Atomics.load(doorbell(board), 0)).toBe(1);
    expect(m.bytes()).toBeGreaterThanOrEqual('give me work'.length + 8);
    const taken = master.takeRequest();
    expect(taken && { method: taken.method, request: untext(taken.request) }).toEqual({ method: 'requestTask', request: 'give me work' });
    expect(master.state()).toBe(SERVING);
    expect(master.takeRequest()).toBeUndefined();   // a held long poll is taken once
    const waiting = slot.awaitReply(soon(), m.charge);
    master.postReply(text('map 3'));
    const reply = await waiting;
    expect(reply.kind === 'reply' && untext(reply.bytes)).toBe('map 3');
    expect(slot.state()).toBe(TAKEN);
    // The other slots of the board are untouched.
    expect(new BoardSlot(board, 2, REPORT_SLOT).state()).toBe(EMPTY);
    expect(new BoardSlot(board, 1, TASK_SLOT).state()).toBe(EMPTY);
    // A slot taken is the processor's again.
    expect(slot.post('requestTask', text('more'), m.charge)).toBe('posted');
  });

  it('is busy while a call is in it, and a reply nobody waited for is dropped by the next call', () => {
    const board = createBoardMemory(2, 256);
    const slot = new BoardSlot(board, 0, REPORT_SLOT);
    const m = meter();
    expect(slot.post('reportAttempts', text('first'), m.charge)).toBe('posted');
    expect(slot.post('reportAttempts', text('second'), m.charge)).toBe('busy');
    slot.takeRequest();
    expect(slot.post('reportAttempts', text('second'), m.charge)).toBe('busy');
    slot.postReply(text('stale'));
    expect(slot.state()).toBe(POSTED);
    expect(slot.post('reportAttempts', text('second'), m.charge)).toBe('posted');
    expect(untext(slot.takeRequest()!.request)).toBe('second');
  });

  it('refuses a request too large for it, and marks a reply too large OVERSIZE with its length', async () => {
    const board = createBoardMemory(2, 64);
    const slot = new BoardSlot(board, 1, TASK_SLOT);
    const m = meter();
    expect(slot.post('requestTask', new Uint8Array(65), m.charge)).toBe('too-large');
    expect(slot.state()).toBe(EMPTY);
    expect(slot.post('requestTask', new Uint8Array(64), m.charge)).toBe('posted');
    slot.takeRequest();
    slot.postReply(new Uint8Array(1000));
    expect(slot.state()).toBe(OVERSIZE);
    expect(await slot.awaitReply(soon(), m.charge)).toEqual({ kind: 'oversize', bytes: 1000 });
    expect(slot.state()).toBe(TAKEN);
  });

  it('gives up at the deadline, and tells a waiting or later caller once the board is closed', async () => {
    const board = createBoardMemory(2, 64);
    const slot = new BoardSlot(board, 0, TASK_SLOT);
    const m = meter();
    slot.post('requestTask', text('x'), m.charge);
    expect(await slot.awaitReply(Date.now() + 30, m.charge)).toEqual({ kind: 'timeout' });
    const waiting = slot.awaitReply(soon(), m.charge);
    slot.close();
    expect(await waiting).toEqual({ kind: 'closed' });
    expect(slot.state()).toBe(CLOSED);
    expect(slot.post('requestTask', text('y'), m.charge)).toBe('closed');
    slot.postReply(text('late'));   // a handler that ends after the close writes nothing
    expect(slot.state()).toBe(CLOSED);
  });
});

describe('a processor calling through the board', () => {
  it('falls back to its ring for a reply too large, and fails a call the master failed as unavailable', async () => {
    const board = createBoardMemory(2, 64);
    const keeper = keepBoard(board, async (method, request) => {
      if (untext(request) === 'fail') throw new Error('no such worker');
      return untext(request) === 'big' ? new Uint8Array(500).fill(7) : text(`${method}:${untext(request)}`);
    });
    try {
      const ringed: string[] = [];
      const ring = async (request: Uint8Array) => (ringed.push(untext(request)), text('from the ring'));
      const calls = new BoardCalls(board, 1, () => {});
      expect(untext(await calls.call('reportAttempts', text('r1'), new Date(soon()), ring))).toBe('reportAttempts:r1');
      expect(untext(await calls.call('requestTask', text('big'), new Date(soon()), ring))).toBe('from the ring');
      expect(untext(await calls.call('requestTask', new Uint8Array(100), new Date(soon()), ring))).toBe('from the ring');
      expect(ringed).toHaveLength(2);
      await expect(calls.call('requestTask', text('fail'), new Date(soon()), ring)).rejects.toThrow(TransportUnavailableError);
      expect(keeper.served).toEqual({ reportAttempts: 1, requestTask: 2 });
    } finally {
      keeper.stop();
    }
  });

  it('a long poll held for one processor holds up no other; a timed-out call is retried, and stop() ends every wait', async () => {
    const board = createBoardMemory(4, 256);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const keeper = keepBoard(board, async (_method, request) => {
      if (untext(request) === 'hold') await held;
      return request;
    });
    const ring = () => Promise.reject(new Error('unused'));
    const [a, b] = [new BoardCalls(board, 0, () => {}), new BoardCalls(board, 3, () => {})];
    const holding = a.call('requestTask', text('hold'), new Date(soon()), ring);
    expect(untext(await b.call('requestTask', text('quick'), new Date(soon()), ring))).toBe('quick');
    await expect(b.call('requestTask', text('hold'), new Date(Date.now() + 50), ring)).rejects.toThrow(/deadline/);
    release();
    expect(untext(await holding)).toBe('hold');
    keeper.stop();
    await expect(a.call('requestTask', text('after'), new Date(soon()), ring)).rejects.toThrow(TransportUnavailableError);
  });

  it('does not keep its process alive: a keeper left waiting on the doorbell lets the process exit', async () => {
    const exited = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [TSX, IDLE_KEEPER], { timeout: 30_000 }, (error, stdout) => resolve({ code: error ? (error.code as number ?? -1) : 0, stdout }));
      child.stdin?.end();
    });
    expect(exited).toEqual({ code: 0, stdout: 'exited\n' });
  });

  it('serves processors in worker threads, each its own replies, and counts their maps once at the barrier', async () => {
    const board = createBoardMemory(4);
    const keeper = keepBoard(board, async (_method, request) => text(`ok ${untext(request)}`));
    try {
      const results = await Promise.all([0, 1, 2, 3].map((node) => {
        const thread = startThread(BOARD_THREAD, { board, node, calls: 5, maps: [node, node + 1, node] });
        threads.push(thread);
        return new Promise<{ replies: string[]; charged: number; counted: number }>((resolve, reject) => {
          thread.once('message', resolve);
          thread.once('error', reject);
        });
      }));
      results.forEach(({ replies, charged }, node) => {
        expect(replies).toEqual([0, 1, 2, 3, 4].map((i) => `ok p${node}-${i}`));
        expect(charged).toBeGreaterThan(0);
      });
      // Maps 0..4 arrived, several twice: each counted by exactly one processor.
      expect(results.reduce((sum, r) => sum + r.counted, 0)).toBe(5);
      expect(arrivals(stageTable(board), 'j', 1, () => {})).toBe(5);
      expect(keeper.served.requestTask).toBe(20);
    } finally {
      keeper.stop();
    }
  });
});

describe('the stage barrier', () => {
  it('counts each map task once, per (job, stage), and a reducer waits until all are in', async () => {
    const table = stageTable(createBoardMemory(2));
    const m = meter();
    expect(arrive(table, 'job-1', 1, 0, m.charge)).toBe(true);
    expect(arrive(table, 'job-1', 1, 0, m.charge)).toBe(false);   // run again after a lost output
    expect(arrive(table, 'job-1', 1, 2, m.charge)).toBe(true);
    expect(arrivals(table, 'job-1', 1, m.charge)).toBe(2);
    expect(arrivals(table, 'job-1', 2, m.charge)).toBe(0);
    expect(m.touches()).toBeGreaterThan(0);
    const waiting = awaitArrivals(table, 'job-1', 1, 3, 5000, m.charge);
    setTimeout(() => arrive(table, 'job-1', 1, 1, m.charge), 20);
    expect(await waiting).toBe(true);
    expect(await awaitArrivals(table, 'job-1', 1, 4, 30, m.charge)).toBe(false);
  });

  it('keeps a bounded table: the next stage hashed to an entry takes it over, cleared', () => {
    const table = stageTable(createBoardMemory(2));
    const entry = (stage: number) => (stageKey('j', stage) >>> 0) % STAGE_ENTRIES;
    let other = 2;
    while (entry(other) !== entry(1)) other++;
    arrive(table, 'j', 1, 5, () => {});
    arrive(table, 'j', other, 7, () => {});
    expect(arrivals(table, 'j', other, () => {})).toBe(1);
    expect(arrivals(table, 'j', 1, () => {})).toBe(0);
    expect(arrive(table, 'j', other, 5, () => {})).toBe(true);   // the bits of stage 1 are gone
  });

  it('leaves map tasks past MAP_BITS to the master', () => {
    const table = stageTable(createBoardMemory(2));
    expect(arrive(table, 'j', 1, MAP_BITS, () => {})).toBe(false);
    expect(countedMaps([0, 1, MAP_BITS, MAP_BITS + 5])).toBe(2);
  });
});

describe('a processor at the barrier', () => {
  const task = (kind: 'map' | 'reduce', taskIndex: number, mapTasks: number[] = []): Task => ({
    jobId: 'j', stage: 1, kind, taskIndex, attemptId: `${kind}-${taskIndex}`, splits: [],
    mapOutputs: mapTasks.map((mapTask) => ({ mapTask, workerAddress: '', outputId: `o-${mapTask}`, path: '' })),
  } as unknown as Task);
  const handOut = (t: Task) => ({ task: t, moreTasks: [] });
  const report = (attemptId: string, ok = true) => ({ attemptId, ok });

  it('counts a map once its report is accepted (not a rejected or failed one, not twice), then lets a reduce of the stage through', async () => {
    const board = createBoardMemory(2);
    const fabric = createFabricMemory(2);
    const sync = new StageSync(stageTable(board), fabricPort(fabric, 1, DEFAULT_BUTTERFLY_MODEL), 50);
    await sync.replied('requestTask', {}, handOut(task('map', 0)));
    await sync.replied('reportAttempts', { reports: [report('map-0')] }, { accepted: [true], next: handOut(task('map', 1)) });
    await sync.replied('reportAttempts', { reports: [report('map-0')] }, { accepted: [true], next: null });   // a retry
    await sync.replied('reportAttempt', report('map-1'), { accepted: false, next: handOut(task('map', 2)) });
    await sync.replied('reportAttempt', report('map-2', false), { accepted: true, next: null });
    expect(arrivals(stageTable(board), 'j', 1, () => {})).toBe(1);
    await sync.replied('requestTask', {}, handOut(task('reduce', 0, [0])));
    expect(readFabric(fabric)).toMatchObject({ barrierArrivals: 1, barrierLate: 0 });
    await sync.replied('requestTask', {}, handOut(task('reduce', 1, [0, 1, 2])));   // maps 1 and 2 never counted
    expect(readFabric(fabric).barrierLate).toBe(1);
    expect(readFabric(fabric).boardAccesses).toBeGreaterThan(0);
  });
});
