// A finished job replayed on the simulated butterfly. Time advances in switch cycles: in each
// cycle every processor not busy computing makes its next memory access. A local access (its own
// module) never meets the switch; a remote one crosses the log2 N stages by destination-tag
// routing, and two accesses wanting the same switch output in the same cycle conflict: the
// later one is refused at that stage and retried next cycle, as the BBN Butterfly did.
// The task queue and the map/reduce barrier are words in module 0, so taking a task and
// reporting its end are (small) remote accesses too. Deterministic for a given trace and model.
import type { JobTrace, StageTrace } from '../../core/job-trace.ts';
import { route, stagesOf, type AccessCosts, DEFAULT_ACCESS_COSTS } from './switch-network.ts';

export interface ButterflyModel {
  costs: AccessCosts;
  /** How fast a processor works through input, in bytes per second (map and reduce). */
  nodeBytesPerSec: number;
  /** Bytes moved by one access (a switch transaction). */
  blockBytes: number;
  /** Bytes of a task-queue or barrier access. */
  controlBytes: number;
}

export const DEFAULT_BUTTERFLY_MODEL: Readonly<ButterflyModel> = Object.freeze({
  costs: DEFAULT_ACCESS_COSTS,
  nodeBytesPerSec: 20e6,
  blockBytes: 256,
  controlBytes: 16,
});

export interface ButterflySimulation {
  simulatedNs: number;
  stages: number;
  localBytes: number;
  remoteBytes: number;
  /** Remote accesses that went through the switch (each crossing every stage once). */
  remoteAccesses: number;
  localAccesses: number;
  conflictsPerStage: number[];
}

/** One step of a processor's program. */
type Op = { kind: 'compute'; ns: number } | { kind: 'access'; module: number; bytes: number };

const QUEUE_MODULE = 0;

export function simulateJob(trace: JobTrace, nodes: number, model: ButterflyModel = DEFAULT_BUTTERFLY_MODEL): ButterflySimulation {
  const machine = new CycleMachine(nodes, model);
  for (const stage of trace.stages) {
    machine.runPhase(mapPrograms(stage, nodes, model));      // ends at the barrier
    machine.runPhase(reducePrograms(stage, nodes, model));
  }
  return machine.result();
}

function computeNs(bytes: number, model: ButterflyModel): number {
  return (bytes * 1e9) / model.nodeBytesPerSec;
}

/** Per node, its maps one after another: take the task, read and process the split, write the partitions into its own module, count itself in at the barrier. */
function mapPrograms(stage: StageTrace, nodes: number, model: ButterflyModel): Op[][] {
  const programs: Op[][] = Array.from({ length: nodes }, () => []);
  for (const map of stage.maps) {
    const out = map.partitionBytes.reduce((a, b) => a + b, 0);
    programs[map.node].push(
      { kind: 'access', module: QUEUE_MODULE, bytes: model.controlBytes },
      { kind: 'compute', ns: computeNs(map.inputBytes, model) },
      { kind: 'access', module: map.node, bytes: out },
      { kind: 'access', module: QUEUE_MODULE, bytes: model.controlBytes },
    );
  }
  return programs;
}

/**
 * Per node, its reduces one after another: take the task, read partition r of every map output
 * from the module it lies in (starting at a different map per reducer, so that they do not all
 * queue at the same module), reduce, and report the end.
 */
function reducePrograms(stage: StageTrace, nodes: number, model: ButterflyModel): Op[][] {
  const programs: Op[][] = Array.from({ length: nodes }, () => []);
  const maps = stage.maps.length;
  stage.reduces.forEach((reduce, r) => {
    const program = programs[reduce.node];
    program.push({ kind: 'access', module: QUEUE_MODULE, bytes: model.controlBytes });
    let input = 0;
    for (let i = 0; i < maps; i++) {
      const map = stage.maps[(r + i) % maps];
      const bytes = map.partitionBytes[r] ?? 0;
      input += bytes;
      if (bytes > 0) program.push({ kind: 'access', module: map.node, bytes });
    }
    program.push({ kind: 'compute', ns: computeNs(input, model) }, { kind: 'access', module: QUEUE_MODULE, bytes: model.controlBytes });
  });
  return programs;
}

/** Processors stepping through their programs in lockstep switch cycles. */
class CycleMachine {
  private readonly stages: number;
  private readonly cycleNs: number;
  private readonly localBlocksPerCycle: number;
  private readonly routes: number[][][];   // routes[src][dst]: the output row taken at each stage
  private cycle = 0;
  private localBytes = 0;
  private remoteBytes = 0;
  private localAccesses = 0;
  private remoteAccesses = 0;
  private readonly conflicts: number[];

  constructor(
    private readonly nodes: number,
    private readonly model: ButterflyModel,
  ) {
    this.stages = stagesOf(nodes);
    const { costs, blockBytes } = model;
    // A cycle is the time of one remote block access; local blocks are cheaper, so several fit.
    this.cycleNs = Math.max(1e-9, this.stages * costs.perStageNs + blockBytes * costs.remoteNsPerByte);
    this.localBlocksPerCycle = Math.max(1, Math.floor(this.cycleNs / Math.max(1e-9, blockBytes * costs.localNsPerByte)));
    this.routes = Array.from({ length: nodes }, (_, src) =>
      Array.from({ length: nodes }, (_, dst) => route(src, dst, nodes).map((hop) => hop.row)));
    this.conflicts = new Array<number>(this.stages).fill(0);
  }

  /** Runs every processor's program from the current cycle until all of them are done. */
  runPhase(programs: Op[][]): void {
    const state = programs.map((ops) => ({ ops, at: 0, left: 0, busyUntil: this.cycle }));
    let end = this.cycle;
    for (;;) {
      const ready: number[] = [];
      let nextBusy = Infinity;
      for (let node = 0; node < this.nodes; node++) {
        const s = state[node];
        // Steps that take no cycle of their own: start computing, or size the next access.
        while (s.at < s.ops.length && s.busyUntil <= this.cycle && (s.ops[s.at].kind === 'compute' || s.left === 0)) {
          const op = s.ops[s.at];
          if (op.kind === 'compute') {
            s.busyUntil = this.cycle + Math.ceil(op.ns / this.cycleNs);
            s.at++;
          } else s.left = Math.max(1, Math.ceil(op.bytes / this.model.blockBytes));
        }
        if (s.at >= s.ops.length) end = Math.max(end, s.busyUntil);
        else if (s.busyUntil > this.cycle) nextBusy = Math.min(nextBusy, s.busyUntil);
        else ready.push(node);
      }
      if (ready.length === 0) {
        if (nextBusy === Infinity) break;
        this.cycle = nextBusy; // everyone is computing: skip to the first to finish
        continue;
      }
      this.step(ready, state);
      this.cycle++;
      for (const node of ready) if (state[node].left === 0) state[node].at++;
    }
    this.cycle = Math.max(this.cycle, end);
  }

  /** One cycle: each ready processor makes one access; remote ones arbitrate for switch outputs. */
  private step(ready: number[], state: { ops: Op[]; at: number; left: number }[]): void {
    const claimed = Array.from({ length: this.stages }, () => new Set<number>());
    // Rotating priority, so no processor always wins.
    const order = ready.map((_, i) => ready[(i + this.cycle) % ready.length]);
    for (const node of order) {
      const s = state[node];
      const op = s.ops[s.at] as Extract<Op, { kind: 'access' }>;
      const blockBytes = (blocks: number): number => Math.min(op.bytes - (Math.ceil(op.bytes / this.model.blockBytes) - s.left) * this.model.blockBytes, blocks * this.model.blockBytes);
      if (op.module === node) {
        const blocks = Math.min(s.left, this.localBlocksPerCycle);
        this.localBytes += Math.max(0, blockBytes(blocks));
        this.localAccesses += blocks;
        s.left -= blocks;
        continue;
      }
      const rows = this.routes[node][op.module];
      const blockedAt = rows.findIndex((row, stage) => claimed[stage].has(row));
      if (blockedAt >= 0) {
        this.conflicts[blockedAt]++;
        for (let stage = 0; stage < blockedAt; stage++) claimed[stage].add(rows[stage]); // it held those until refused
        continue;
      }
      rows.forEach((row, stage) => claimed[stage].add(row));
      this.remoteBytes += Math.max(0, blockBytes(1));
      this.remoteAccesses++;
      s.left--;
    }
  }

  result(): ButterflySimulation {
    return {
      simulatedNs: this.cycle * this.cycleNs,
      stages: this.stages,
      localBytes: this.localBytes,
      remoteBytes: this.remoteBytes,
      remoteAccesses: this.remoteAccesses,
      localAccesses: this.localAccesses,
      conflictsPerStage: [...this.conflicts],
    };
  }
}
