// The replay of a job on the simulated butterfly: local vs remote bytes, conflicts when
// processors want the same module at once, and determinism.
import { describe, expect, it } from 'vitest';
import type { JobTrace } from '../../src/core/job-trace.ts';
import { simulateJob, type ButterflyModel } from '../../src/backends/butterfly/job-model.ts';

const MODEL: ButterflyModel = {
  costs: { localNsPerByte: 0.1, remoteNsPerByte: 0.4, perStageNs: 50 },
  nodeBytesPerSec: 1e9, // 1 byte per ns
  blockBytes: 100,
  controlBytes: 10,
};

describe('a job replayed on the butterfly', () => {
  it('keeps everything local on one node: no switch, no conflicts', () => {
    const trace: JobTrace = { stages: [{ maps: [{ node: 0, inputBytes: 1000, partitionBytes: [300, 200] }], reduces: [{ node: 0, outputBytes: 1 }, { node: 0, outputBytes: 1 }], counters: {} }] };
    const sim = simulateJob(trace, 1, MODEL);
    expect(sim.stages).toBe(0);
    expect(sim.remoteBytes).toBe(0);
    expect(sim.remoteAccesses).toBe(0);
    // written once into the module, read once by the reducers, plus the queue and barrier words
    expect(sim.localBytes).toBe(500 + 500 + 10 * 6);
    expect(sim.simulatedNs).toBeGreaterThanOrEqual(1000 + 500);
  });

  it('reads another node\'s partition through the switch', () => {
    const trace: JobTrace = { stages: [{ maps: [{ node: 1, inputBytes: 10, partitionBytes: [1000] }], reduces: [{ node: 0, outputBytes: 1 }], counters: {} }] };
    const sim = simulateJob(trace, 2, MODEL);
    expect(sim.stages).toBe(1);
    // node 1: its two queue accesses to module 0 are remote; its output write is local
    expect(sim.remoteBytes).toBe(1000 + 2 * 10);
    expect(sim.remoteAccesses).toBe(10 + 2);
    expect(sim.localBytes).toBe(1000 + 2 * 10);
    expect(sim.conflictsPerStage).toEqual([0]);
  });

  it('counts conflicts when processors want the same module in the same cycle', () => {
    const maps = [{ node: 0, inputBytes: 10, partitionBytes: [5000, 5000, 5000, 5000] }];
    const reduces = [0, 1, 2, 3].map((node) => ({ node, outputBytes: 1 }));
    const sim = simulateJob({ stages: [{ maps, reduces, counters: {} }] }, 4, MODEL);
    const total = sim.conflictsPerStage.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    // Three remote readers of module 0 share its one line into the last stage: at most one per cycle.
    expect(sim.conflictsPerStage[1]).toBeGreaterThan(0);
    expect(sim.remoteBytes).toBe(3 * 5000 + 10 * 2 * 3); // and the queue words of nodes 1..3
  });

  it('gives the same figures for the same trace', () => {
    const maps = Array.from({ length: 8 }, (_, i) => ({ node: i % 4, inputBytes: 100 * (i + 1), partitionBytes: [i * 300, 700, 0, 50] }));
    const reduces = [3, 2, 1, 0].map((node) => ({ node, outputBytes: 1 }));
    const trace: JobTrace = { stages: [{ maps, reduces, counters: {} }, { maps: [{ node: 2, inputBytes: 5, partitionBytes: [5] }], reduces: [{ node: 1, outputBytes: 1 }], counters: {} }] };
    expect(simulateJob(trace, 4, MODEL)).toEqual(simulateJob(structuredClone(trace), 4, MODEL));
  });
});
