// The replay of a job on the simulated hypercube: hand-computed times for tiny jobs, the
// all-to-all shuffle's traffic, and determinism.
import { describe, expect, it } from 'vitest';
import type { JobTrace } from '../../src/core/job-trace.ts';
import { simulateJob, type HypercubeModel } from '../../src/backends/hypercube/job-model.ts';

// 100 bytes take 1 us on a link; a node processes 1 byte per us.
const MODEL: HypercubeModel = { link: { latencyUs: 5, bandwidthBytesPerSec: 1e8 }, nodeBytesPerSec: 1e6, controlBytes: 100, chunkBytes: 1000 };
const hop = (bytes: number): number => bytes / 100 + 5;

describe('a job replayed on the hypercube', () => {
  it('times one map and one reduce on neighbouring nodes by hand', () => {
    const trace: JobTrace = { stages: [{ maps: [{ node: 1, inputBytes: 500, partitionBytes: [2500] }], reduces: [{ node: 0, outputBytes: 10 }], counters: {} }] };
    const { simulatedUs, stages, network } = simulateJob(trace, 1, MODEL);
    // hand-out 0->1, map 500 us, report 1->0: the barrier
    const mapDone = hop(100) + 500 + hop(100);
    expect(stages[0].mapDoneUs).toBe(mapDone);
    // reduce on node 0 (the master's own node: hand-out costs nothing), fetch request 0->1,
    // three chunks 1000+1000+500 back to back on link 1->0, then 2500 us of reducing,
    // commit request and grant to itself, report to itself.
    const fetched = mapDone + hop(100) + 10 + 10 + 5 + 5;
    expect(simulatedUs).toBe(fetched + 2500);
    expect(network.messages).toBe(2 + 1 + 1 + 3 + 3); // hand-outs, report, fetch request, chunks, commit + grant + report
    expect(network.bytes).toBe(100 * 7 + 2500);
  });

  it('counts the all-to-all shuffle: every pair once, mean hops d/2 over distinct pairs', () => {
    const d = 3;
    const n = 1 << d;
    const maps = Array.from({ length: n }, (_, i) => ({ node: i, inputBytes: 100, partitionBytes: Array(n).fill(400) }));
    const reduces = Array.from({ length: n }, (_, i) => ({ node: i, outputBytes: 1 }));
    const { network } = simulateJob({ stages: [{ maps, reduces, counters: {} }] }, d, MODEL);
    // Shuffle data messages: one chunk per (map node, reduce node) pair of distinct nodes.
    const shuffle = network.links.reduce((sum, l) => sum + l.bytes, 0);
    expect(shuffle).toBeGreaterThan(n * (n - 1) * 400);
    expect(network.maxHops).toBe(d);
    // Half of the n*(n-1) shuffle pairs cross the highest-bit bisection, carrying 400 bytes each,
    // plus the fetch requests the other way (100 bytes) and the control messages of node 0.
    expect(network.bisectionBytes).toBeGreaterThanOrEqual((n / 2) * (n / 2) * 2 * 500);
  });

  it('runs chained stages one after the other, deterministically', () => {
    const stage = { maps: [{ node: 3, inputBytes: 1000, partitionBytes: [300, 700] }, { node: 5, inputBytes: 2000, partitionBytes: [0, 50] }], reduces: [{ node: 2, outputBytes: 5 }, { node: 6, outputBytes: 5 }], counters: {} };
    const trace: JobTrace = { stages: [stage, { maps: [{ node: 0, inputBytes: 10, partitionBytes: [10] }], reduces: [{ node: 7, outputBytes: 1 }], counters: {} }] };
    const a = simulateJob(trace, 3, MODEL);
    const b = simulateJob(structuredClone(trace), 3, MODEL);
    expect(a).toEqual(b);
    expect(a.stages).toHaveLength(2);
    expect(a.stages[1].mapDoneUs).toBeGreaterThan(a.stages[0].doneUs);
    expect(a.simulatedUs).toBe(a.stages[1].doneUs);
  });

  it('takes no time for an empty job', () => {
    expect(simulateJob({ stages: [{ maps: [], reduces: [], counters: {} }] }, 2, MODEL).simulatedUs).toBe(0);
  });
});
