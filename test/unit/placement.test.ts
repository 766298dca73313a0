// Static placement on a simulated machine: tasks go to their home nodes, spread over the whole
// machine; a task whose node is gone, or that failed there, goes elsewhere.
import { describe, expect, it } from 'vitest';
import { homeNode } from '../../src/core/placement.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import { traceStages } from '../../src/core/job-trace.ts';

const splits = (n: number) => Array.from({ length: n }, (_, i) => [{ path: `in-${i}`, start: 0, end: 100, wholeFile: false }]);

function machine(nodes: number, maps: number, reduces: number) {
  const s = new Scheduler({ leaseMs: 3000, workerTimeoutMs: 2000, nodes });
  s.addJob('j', 1, 3, 0);
  s.startStage('j', splits(maps), reduces, 0);
  for (let n = 0; n < nodes; n++) s.registerWorker(`w${n}`, 0, n);
  return s;
}

describe('static placement', () => {
  it('spreads few tasks over the whole machine and deals many round-robin', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => homeNode(i, 8, 16))).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect([0, 1, 2, 3].map((i) => homeNode(i, 4, 16))).toEqual([0, 4, 8, 12]);
    expect([0, 1, 2, 3, 4, 5].map((i) => homeNode(i, 6, 4))).toEqual([0, 1, 2, 3, 0, 1]);
    expect([0, 1, 2].map((i) => homeNode(i, 3, 4))).toEqual([0, 1, 2]);
  });

  it('hands a worker only the tasks placed on its node, and records the node in the trace', () => {
    const s = machine(4, 8, 2);
    const taken: Record<string, number[]> = {};
    for (let round = 0; round < 2; round++) {
      for (let n = 3; n >= 0; n--) {
        const a = s.assign(`w${n}`, 1).assignments[0];
        (taken[`w${n}`] ??= []).push(a.index);
        s.succeed(a.attemptId, `out-${a.index}`, { 'map.inputBytes': 100 }, 2, [10 * a.index, 1]);
      }
    }
    expect(taken).toEqual({ w0: [0, 4], w1: [1, 5], w2: [2, 6], w3: [3, 7] });
    expect(s.assign('w1', 3).assignments).toEqual([]); // reduce 0 lives on node 0, reduce 1 on node 2
    expect(s.assign('w2', 3).assignments[0]?.kind).toBe('reduce');
    const trace = traceStages(s.jobs.get('j')!.stages);
    expect(trace.stages[0].maps.map((m) => m.node)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(trace.stages[0].maps[5]).toEqual({ node: 1, inputBytes: 100, partitionBytes: [50, 1] });
  });

  it('moves a task whose node has no live worker, and a task that failed on its node', () => {
    const s = machine(2, 2, 1);
    s.loseWorker('w1', 'gone', 0);
    expect(s.assign('w0', 1).assignments[0]?.index).toBe(0);
    expect(s.assign('w0', 1).assignments[0]?.index).toBe(1); // node 1 is gone: its task comes to node 0
    const t = machine(2, 2, 1);
    const a = t.assign('w1', 1).assignments[0];
    expect(a.index).toBe(1);
    t.fail(a.attemptId, 'boom', 2);
    expect(t.assign('w0', 3).assignments[0]?.index).toBe(0);
    expect(t.assign('w0', 3).assignments[0]?.index).toBe(1); // a retry may run elsewhere
  });
});
