// The butterfly backend through the real CLI: map outputs in memory modules read in place,
// spilled to disk when a module is too small, tasks, reports and the barrier on the task board
// in module 0, and the figures of the live switch fabric.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

const butterfly = (name: string, extra: string[], transport = 'butterfly') =>
  runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, name), '--transport', transport, '--quiet', ...extra]);

const sum = (figures: number[]): number => figures.reduce((a, b) => a + b, 0);

describe('the butterfly backend', () => {
  it('keeps map outputs in the modules, reads them through the switch as the job runs, and counts every access', async () => {
    const [a, memory] = [await butterfly('a', ['--nodes', '4', '--json', '--report']), await butterfly('mem', ['--workers', '4'], 'memory')];
    expect(a.code).toBe(0);
    expect(memory.code).toBe(0);
    const summary = JSON.parse(a.stdout);
    const report = summary.backend;
    expect(report).toMatchObject({ name: 'butterfly', nodes: 4, stages: 2, spilledBytes: 0, preset: null });
    const counters = summary.stages[0].counters;
    expect(counters['shuffle.bytes'] ?? 0).toBe(0); // nothing went over a network
    const written = counters['butterfly.moduleBytes'];
    expect(written).toBeGreaterThan(0);
    // Every map output byte is written once into its own module and read once by its reducer,
    // from the reducer's module or through the switch; directory words come on top.
    expect(report.bytes).toBe(report.localBytes + report.remoteBytes);
    expect(report.bytes).toBeGreaterThanOrEqual(2 * written);
    expect(report.localBytes).toBeGreaterThanOrEqual(written);
    expect(report.remoteBytes).toBeGreaterThan(0);   // 4 reducers read the outputs of maps on other nodes
    expect(report.remoteAccesses).toBeGreaterThanOrEqual(Math.ceil(report.remoteBytes / report.model.blockBytes));
    expect(report.messages).toBe(report.remoteAccesses);
    expect(report.switchTraversals).toBe(report.remoteAccesses * 2);
    expect(report.switchConflicts).toHaveLength(2);
    for (const conflicts of report.switchConflicts) expect(Number.isInteger(conflicts) && conflicts >= 0).toBe(true);
    // The latest processor's clock is the simulated time, and each did at least its own work.
    expect(report.processorMs).toHaveLength(4);
    expect(report.simulatedMs).toBe(Math.max(...report.processorMs));
    expect(sum(report.processorMs)).toBeGreaterThanOrEqual(report.computeMs + report.localCostMs + report.remoteCostMs - 0.01);
    expect(report.computeMs).toBeGreaterThan(0);
    expect(report.remoteCostMs).toBeGreaterThan(0);
    expect(report.remoteToLocalCost).toBeGreaterThan(1);
    expect(a.stderr).toMatch(/remoteAccesses: +\d+ - switch transactions/);
    // The same output, byte for byte, as the memory backend's.
    const parts = await readParts(join(dir, 'a'));
    expect(parts).toEqual(await readParts(join(dir, 'mem')));
    expect(recordsOf(parts)).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });

  it('hands out tasks, takes reports and holds the barrier on the task board in module 0, not on the rings, under chaos too', async () => {
    const [plain, chaos, memory] = [
      await butterfly('board', ['--nodes', '4', '--json']),
      await butterfly('board-chaos', ['--nodes', '4', '--json', '--chaos', 'drop=0.1', '--chaos-seed', '3']),
      await butterfly('board-mem', ['--workers', '4'], 'memory'),
    ];
    expect(memory.code).toBe(0);
    for (const [name, run] of [['board', plain], ['board-chaos', chaos]] as const) {
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      const report = summary.backend;
      const { mapTasks, mapAttempts, reduceAttempts } = summary.stages[0];
      // Every task was handed out, and every attempt reported, through the board.
      expect(report.boardCalls.requestTask).toBeGreaterThan(0);
      expect(report.boardCalls.reportAttempt + report.boardCalls.reportAttempts).toBeGreaterThan(0);
      for (const method of ['requestTask', 'reportAttempt', 'reportAttempts']) expect(report.ringCalls[method] ?? 0, method).toBe(0);
      expect(report.ringCalls.registerWorker).toBeGreaterThanOrEqual(4);   // the other calls stay on the rings
      expect(report.boardCalls.reportAttempts).toBeLessThanOrEqual(mapAttempts + reduceAttempts + (name === 'board' ? 0 : 20));
      // Each map counted once at the barrier; no reducer had to go on without it.
      expect(report.barrierArrivals).toBe(mapTasks);
      expect(report.barrierLate).toBe(0);
      // Board traffic: a few accesses per call, all to module 0, whose refusals count there.
      expect(report.boardAccesses).toBeGreaterThan(0);
      expect(report.boardBytes).toBeGreaterThan(0);
      expect(report.boardAccesses).toBeLessThan(report.localAccesses + report.remoteAccesses);
      expect(report.boardConflicts).toHaveLength(2);
      expect(report.conflictsByModule[0]).toBeGreaterThanOrEqual(sum(report.boardConflicts));
      expect(sum(report.conflictsByModule)).toBe(sum(report.switchConflicts));
      expect(report.remoteAccessesByModule[0]).toBeGreaterThan(0);
      expect(sum(report.remoteAccessesByModule)).toBe(report.remoteAccesses);
      expect(await readParts(join(dir, name))).toEqual(await readParts(join(dir, 'board-mem')));
    }
  });

  it('costs remote accesses after the machine named by --preset: the TC2000 more than the Butterfly-I, against local ones', async () => {
    const [one, tc] = [await butterfly('b1', ['--nodes', '4', '--json', '--preset', 'butterfly1']), await butterfly('tc', ['--nodes', '4', '--json', '--preset', 'tc2000'])];
    expect(one.code).toBe(0);
    expect(tc.code).toBe(0);
    const [b1Report, tcReport] = [JSON.parse(one.stdout).backend, JSON.parse(tc.stdout).backend];
    expect(b1Report.preset).toBe('butterfly1');
    expect(tcReport.preset).toBe('tc2000');
    expect(tcReport.remoteToLocalCost).toBeGreaterThan(b1Report.remoteToLocalCost);
    expect(b1Report.remoteToLocalCost).toBeGreaterThan(4);
    expect(tcReport.remoteToLocalCost).toBeGreaterThan(12);
    // Per byte moved, remote accesses cost more against local ones on the TC2000.
    const perByte = (r: { remoteCostMs: number; remoteBytes: number; localCostMs: number; localBytes: number }) => (r.remoteCostMs / r.remoteBytes) / (r.localCostMs / r.localBytes);
    expect(perByte(tcReport)).toBeGreaterThan(perByte(b1Report));
    // An explicit knob overrides the preset's value.
    const knob = await butterfly('knob', ['--nodes', '2', '--json', '--preset', 'tc2000', '--stage-ns', '1000']);
    expect(knob.code).toBe(0);
    expect(JSON.parse(knob.stdout).backend.model).toMatchObject({ perStageNs: 1000, localNsPerByte: 35, remoteNsPerByte: 465 });
  });

  it('spills partitions that do not fit in a module to disk and still gives the right output', async () => {
    const r = await butterfly('spill', ['--nodes', '2', '--module-mib', '0.01', '--json', '--report']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.backend.spilledBytes).toBeGreaterThan(0);
    expect(summary.stages[0].counters['butterfly.spilledPartitions']).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/backend butterfly: 2 node\(s\)/);
    expect(r.stderr).toMatch(/switchConflicts: +\d+ - accesses refused by a busy switch, per stage\n/);
    expect(recordsOf(await readParts(join(dir, 'spill')))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });

  it.each([
    [['--nodes', '3'], /--transport butterfly: .*power-of-two/],
    [['--nodes', '128'], /at most 64 processors/],
    [['--module-mib', '0.001'], /at least 4 KiB/],
    [['--preset', 'ipsc2'], /--transport butterfly: butterfly has no preset 'ipsc2': use one of butterfly1, tc2000/],
  ])('rejects %j with one clear line', async (extra, message) => {
    const r = await butterfly(`bad-${extra.join('')}`, extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
