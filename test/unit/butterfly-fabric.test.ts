// The live switch fabric: each processor's accesses charged on its own clock as they are made,
// local ones at the module's cost, remote ones through the stages, refused when a line is taken;
// the presets and the report read from its counters.
import { describe, expect, it } from 'vitest';
import { BUTTERFLY_PRESETS, DEFAULT_BUTTERFLY_MODEL, modelOf, type ButterflyModel } from '../../src/backends/butterfly/butterfly-model.ts';
import { butterflyReport } from '../../src/backends/butterfly/butterfly-report.ts';
import { FabricPort, createFabricMemory, readFabric } from '../../src/backends/butterfly/switch-fabric.ts';
import { remoteToLocal } from '../../src/backends/butterfly/switch-network.ts';
import { ProcessorWork, tasksHandedOut } from '../../src/backends/butterfly/processor-work.ts';
import { HeapModule, createHeap, lookupPartition } from '../../src/backends/butterfly/shared-heap.ts';
import { ENTRY_BYTES } from '../../src/backends/butterfly/heap-directory.ts';
import type { Task } from '../../src/wires/messages.ts';

const MODEL: ButterflyModel = {
  costs: { localNsPerByte: 1, remoteNsPerByte: 2, perStageNs: 10 },
  nodeBytesPerSec: 1e9,   // 1 ns a byte
  blockBytes: 100,
  preset: null,
};
const CYCLE_NS = 3 * 10 + 100 * 2;   // 8 nodes: a remote block's time

describe('the live switch fabric', () => {
  it('charges a local access per byte and never meets the switch', () => {
    const memory = createFabricMemory(8);
    const port = new FabricPort(memory, 2, MODEL);
    port.access(2, 250);
    expect(port.clockNs).toBe(250);
    const totals = readFabric(memory);
    expect(totals).toMatchObject({ localBytes: 250, localAccesses: 3, localNs: 250, remoteBytes: 0, remoteAccesses: 0, conflictsPerStage: [0, 0, 0] });
  });

  it('charges a remote access its stages and bytes per block, each block a switch transaction', () => {
    const memory = createFabricMemory(8);
    const port = new FabricPort(memory, 2, MODEL);
    port.access(5, 150);   // a whole block, then 50 bytes in the next cycle
    expect(port.clockNs).toBe(CYCLE_NS + (3 * 10 + 50 * 2));
    expect(readFabric(memory)).toMatchObject({ remoteBytes: 150, remoteAccesses: 2, remoteNs: port.clockNs, localBytes: 0 });
  });

  it('refuses the second processor wanting the same output line in the same cycle, and makes it wait a cycle', () => {
    const memory = createFabricMemory(8);
    const [a, b] = [new FabricPort(memory, 1, MODEL), new FabricPort(memory, 3, MODEL)];
    a.access(0, 100);
    b.access(0, 100);      // routes 1 -> 0 and 3 -> 0 share stage 1's line 1
    expect(a.clockNs).toBe(CYCLE_NS);
    expect(b.clockNs).toBe(2 * CYCLE_NS);
    expect(readFabric(memory).conflictsPerStage).toEqual([0, 1, 0]);
    // Far apart in simulated time, they do not meet.
    const c = new FabricPort(memory, 5, MODEL);
    c.compute(100 * CYCLE_NS);
    c.access(0, 100);
    expect(readFabric(memory).conflictsPerStage).toEqual([0, 1, 0]);
  });

  it('counts board accesses as accesses to module 0, their refusals apart, and refusals per module', () => {
    const memory = createFabricMemory(8);
    const [a, b, zero] = [new FabricPort(memory, 1, MODEL), new FabricPort(memory, 3, MODEL), new FabricPort(memory, 0, MODEL)];
    a.accessBoard(8);
    b.accessBoard(8);      // meets a's board access at stage 1, on its way to module 0
    zero.accessBoard(150); // processor 0's own module: local
    b.access(5, 100);
    const totals = readFabric(memory);
    expect(totals).toMatchObject({ boardAccesses: 4, boardBytes: 166, boardConflictsPerStage: [0, 1, 0], conflictsPerStage: [0, 1, 0] });
    expect(totals.remoteAccessesByModule).toEqual([2, 0, 0, 0, 0, 1, 0, 0]);
    expect(totals.conflictsByModule).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(totals.localBytes).toBe(150);
    const report = butterflyReport(memory, 8, 4096, MODEL);
    expect(report).toMatchObject({ boardAccesses: 4, boardConflicts: [0, 1, 0], hotModule: 0, hotModuleShare: 1 });
  });

  it('lets one processor make several short accesses in one cycle without refusing itself', () => {
    const memory = createFabricMemory(4);
    const port = new FabricPort(memory, 0, MODEL);
    for (let i = 0; i < 3; i++) port.access(3, 4);
    expect(readFabric(memory).conflictsPerStage).toEqual([0, 0]);
    expect(port.clockNs).toBe(3 * (2 * 10 + 4 * 2));
  });

  it('moves a clock on by compute and to when what it reads was written, never back', () => {
    const memory = createFabricMemory(2);
    const port = new FabricPort(memory, 1, MODEL);
    port.compute(500);
    port.waitUntil(200);
    expect(port.clockNs).toBe(500);
    port.waitUntil(800);
    expect(port.clockNs).toBe(800);
    expect(readFabric(memory)).toMatchObject({ computeNs: 500, waitNs: 300, clocksNs: [0, 800] });
  });

  it('reports the figures of the counters, the latest clock as simulated time', () => {
    const memory = createFabricMemory(4);
    const ports = [0, 1, 2, 3].map((p) => new FabricPort(memory, p, MODEL));
    ports[0].access(0, 1000);
    ports[1].access(0, 300);
    ports[2].access(0, 300);
    ports[3].compute(2_000_000);
    ports[3].spilled(42);
    const report = butterflyReport(memory, 4, 1 << 20, MODEL);
    expect(report).toMatchObject({
      name: 'butterfly', nodes: 4, stages: 2, localBytes: 1000, remoteBytes: 600, bytes: 1600, remoteAccesses: 6, messages: 6,
      switchTraversals: 12, localAccesses: 10, spilledBytes: 42, simulatedMs: 2, computeMs: 2, preset: null, moduleMib: 1,
      localCostMs: 0.001, remoteToLocalCost: remoteToLocal(4, 4, MODEL.costs),
    });
    expect(report.switchConflicts).toHaveLength(2);
    expect((report.switchConflicts as number[]).reduce((a, b) => a + b)).toBeGreaterThan(0);   // 1 and 2 both read module 0 from cycle 0
    expect(report.processorMs).toEqual([0.001, expect.any(Number), expect.any(Number), 2]);
  });
});

describe('the heap charging the fabric', () => {
  it('charges the writer its module bytes and entry, and the reader the directory probes, the bytes where they lie and the wait for them', async () => {
    const heap = createHeap(4, 4096);
    const fabric = createFabricMemory(4);
    const [reader, writer] = [new FabricPort(fabric, 0, MODEL), new FabricPort(fabric, 2, MODEL)];
    writer.compute(5_000_000);
    const sink = new HeapModule(heap, 2, '/nonexistent/never-spilled', writer).openPartition('out', 1);
    await sink.write(new Uint8Array(1000));
    await sink.close();
    expect(readFabric(fabric)).toMatchObject({ localBytes: 1000 + ENTRY_BYTES, remoteBytes: 0 });
    const published = writer.clockNs;

    const found = lookupPartition(heap, 'out', 1, reader);
    expect(found && 'view' in found && found.view.length).toBe(1000);
    // Modules 0 and 1 hold no entry (one word each: empty), module 2 holds it: its words are remote.
    const totals = readFabric(fabric);
    expect(totals.localBytes).toBe(1000 + ENTRY_BYTES + 4);
    // Module 1: its empty slot's state word; module 2: the entry's words, and its state word again (the seqlock's check).
    expect(totals.remoteBytes).toBe(4 + ENTRY_BYTES + 4);
    expect(totals.remoteAccesses).toBe(1 + 2);   // blocks of at most 100 bytes
    // The reader cannot have read it before it was written.
    expect(reader.clockNs).toBeGreaterThanOrEqual(published);
    expect(reader.clockNs).toBeLessThan(published + 1000 + 3 * CYCLE_NS);
  });
});

describe('a processor kept up with its tasks', () => {
  const task = (kind: string, stage: number, sizes: number[]): Task => ({
    jobId: 'j', stage, kind, taskIndex: 0, attemptId: 'a', spec: null, mapOutputs: [], resume: null,
    splits: sizes.map((size) => ({ path: 'p', start: 10, end: 10 + size, wholeFile: false, fileBytes: 0, mtimeMs: 0 })),
  });

  it('finds the tasks in the replies that hand them out', () => {
    const reply = { task: task('map', 0, [1]), moreTasks: [task('map', 0, [2])], reply: 'task' };
    expect(tasksHandedOut('requestTask', reply)).toHaveLength(2);
    expect(tasksHandedOut('reportAttempts', { accepted: [true], next: reply })).toHaveLength(2);
    expect(tasksHandedOut('reportAttempt', { accepted: true, next: null })).toEqual([]);
    expect(tasksHandedOut('requestTask', { retryAfterMs: 5, moreTasks: [], reply: 'retryAfterMs' })).toEqual([]);
    expect(tasksHandedOut('heartbeat', reply)).toEqual([]);
  });

  it('works through its maps\' input, and starts a later stage when every processor is done with the one before', () => {
    const fabric = createFabricMemory(2);
    const [p0, p1] = [new FabricPort(fabric, 0, MODEL), new FabricPort(fabric, 1, MODEL)];
    const work = new ProcessorWork(p0);
    p1.compute(10_000);   // the first stage starts at 0 on every processor, whatever the others did
    work.replied('requestTask', { task: task('map', 1, [300, 200]), moreTasks: [task('reduce', 1, [])], reply: 'task' });
    expect(p0.clockNs).toBe(500);
    work.replied('requestTask', { task: task('map', 1, [100]), moreTasks: [], reply: 'task' });
    expect(p0.clockNs).toBe(600);
    work.replied('requestTask', { task: task('map', 2, [100]), moreTasks: [], reply: 'task' });
    expect(p0.clockNs).toBe(10_100);
    work.replied('requestTask', { task: task('map', 2, [100]), moreTasks: [], reply: 'task' });
    expect(p0.clockNs).toBe(10_200);
  });
});

describe('butterfly presets', () => {
  it('puts the Butterfly-I near 5:1 and the TC2000 near 15:1 for a word, whatever the size of the machine', () => {
    for (const nodes of [4, 16, 64]) {
      expect(remoteToLocal(4, nodes, BUTTERFLY_PRESETS.butterfly1)).toBeGreaterThan(4.5);
      expect(remoteToLocal(4, nodes, BUTTERFLY_PRESETS.butterfly1)).toBeLessThan(5.5);
      expect(remoteToLocal(4, nodes, BUTTERFLY_PRESETS.tc2000)).toBeGreaterThan(13.5);
      expect(remoteToLocal(4, nodes, BUTTERFLY_PRESETS.tc2000)).toBeLessThan(16.5);
    }
    expect(remoteToLocal(4, 16, BUTTERFLY_PRESETS.butterfly1)).toBeCloseTo(5);
    expect(remoteToLocal(4, 16, BUTTERFLY_PRESETS.tc2000)).toBeCloseTo(15);
  });

  it('takes a preset, lets explicit knobs override it, and rejects an unknown name', () => {
    expect(modelOf({})).toEqual({ ...DEFAULT_BUTTERFLY_MODEL });
    expect(modelOf({ preset: 'tc2000' })).toMatchObject({ costs: BUTTERFLY_PRESETS.tc2000, preset: 'tc2000' });
    expect(modelOf({ preset: 'tc2000', stageNs: 7, nodeMbPerSec: 5 })).toMatchObject({
      costs: { ...BUTTERFLY_PRESETS.tc2000, perStageNs: 7 }, nodeBytesPerSec: 5e6, preset: 'tc2000',
    });
    expect(() => modelOf({ preset: 'ipsc2' })).toThrow(/butterfly has no preset 'ipsc2': use one of butterfly1, tc2000/);
  });
});
