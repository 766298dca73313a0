// The live switch: every access the butterfly's code makes to module memory goes through here
// at the moment it is made, from the processor that makes it, and is charged on that
// processor's simulated clock. Local accesses (a processor's own module) never meet the switch;
// remote ones claim their route's output line at each of the log2 N stages (switch-network.ts).
//
// Decision: the fabric is one SharedArrayBuffer that every processor thread and the master see
// (allocated with the heap, handed over in threadData). It holds per processor a row of Float64
// figures (its clock, bytes, accesses, conflicts per stage) written only by that processor, so
// no figure needs an atomic add; and the shared line table, claimed with compareExchange. The
// master reads the rows once the job is over: the processors' last reports reached it through
// the task board's Atomics, which orders their earlier writes before its reads.
import { crossSwitch, cycleNs, lineTableWords, routeLines, stagesOf } from './switch-network.ts';
import type { ButterflyModel } from './butterfly-model.ts';

/** A plain object of SharedArrayBuffers: pass it to worker threads in workerData, it is shared, not copied. */
export interface FabricMemory {
  nodes: number;
  figures: SharedArrayBuffer;    // Float64: one row of ROW_FIELDS + 2 x stages + nodes per processor
  lines: SharedArrayBuffer;      // Int32: the line table (switch-network.ts)
}

// A processor's row.
const CLOCK_NS = 0;
const COMPUTE_NS = 1;
const WAIT_NS = 2;             // clock moved on to when a map output it reads was written
const LOCAL_BYTES = 3;
const LOCAL_ACCESSES = 4;
const LOCAL_NS = 5;
const REMOTE_BYTES = 6;
const REMOTE_ACCESSES = 7;
const REMOTE_NS = 8;           // including the cycles lost to refusals
const SPILLED_BYTES = 9;
const BOARD_ACCESSES = 10;     // of the above, the accesses to the task board's words (task-board.ts)
const BOARD_BYTES = 11;
const BARRIER_ARRIVALS = 12;   // map tasks this processor was the first to count at its stage's barrier
const BARRIER_LATE = 13;       // reduce tasks that went on without seeing their barrier complete
const ROW_FIELDS = 14;         // then the conflicts at each stage, those of board accesses at each
                               // stage, the remote accesses to each module, and the conflicts of
                               // accesses to each module

const rowWords = (nodes: number): number => ROW_FIELDS + 2 * stagesOf(nodes) + 2 * nodes;

export function createFabricMemory(nodes: number): FabricMemory {
  return {
    nodes,
    figures: new SharedArrayBuffer(nodes * rowWords(nodes) * 8),
    lines: new SharedArrayBuffer(lineTableWords(nodes) * 4),
  };
}

/** One processor's way into the fabric; use it from that processor's thread only. */
export class FabricPort {
  private readonly row: Float64Array;
  private readonly table: Int32Array;
  private readonly held: Int32Array;
  private readonly routes: number[][];
  private readonly cycleNs: number;
  private readonly stages: number;
  private onBoard = false;   // the access being made is one to the task board
  private toModule = 0;      // the module the access being made goes to
  private readonly refused = (stage: number): void => {
    this.row[ROW_FIELDS + stage]++;
    if (this.onBoard) this.row[ROW_FIELDS + this.stages + stage]++;
    this.row[ROW_FIELDS + 2 * this.stages + this.routes.length + this.toModule]++;
  };

  constructor(memory: FabricMemory, readonly processor: number, private readonly model: ButterflyModel) {
    const { nodes } = memory;
    this.stages = stagesOf(nodes);
    if (!Number.isInteger(processor) || processor < 0 || processor >= nodes) throw new RangeError(`processor ${processor} is not in 0..${nodes - 1}`);
    const words = rowWords(nodes);
    this.row = new Float64Array(memory.figures, processor * words * 8, words);
    this.table = new Int32Array(memory.lines);
    this.held = new Int32Array(this.stages * nodes);
    this.routes = Array.from({ length: nodes }, (_, module) => routeLines(processor, module, nodes));
    this.cycleNs = cycleNs(nodes, model.blockBytes, model.costs);
  }

  get clockNs(): number {
    return this.row[CLOCK_NS];
  }

  /**
   * `bytes` read or written in `module`, now. Split into blocks of blockBytes: each block is one
   * access; a remote one crosses the switch in the cycle its processor's clock is in, or later if
   * refused, and then costs its stages and bytes.
   */
  access(module: number, bytes: number): void {
    if (bytes <= 0) return;
    const { row, model } = this;
    const { costs, blockBytes } = model;
    const accesses = Math.ceil(bytes / blockBytes);
    if (module === this.processor) {
      const ns = bytes * costs.localNsPerByte;
      row[CLOCK_NS] += ns;
      row[LOCAL_NS] += ns;
      row[LOCAL_BYTES] += bytes;
      row[LOCAL_ACCESSES] += accesses;
      return;
    }
    const lines = this.routes[module];
    if (lines === undefined) throw new RangeError(`module ${module} is not in 0..${this.routes.length - 1}`);
    this.toModule = module;
    const start = row[CLOCK_NS];
    let clock = start;
    for (let left = bytes; left > 0; left -= blockBytes) {
      const wanted = Math.floor(clock / this.cycleNs);
      const cycle = crossSwitch(this.table, lines, wanted, this.held, this.refused);
      if (cycle > wanted) clock = cycle * this.cycleNs;
      clock += this.stages * costs.perStageNs + Math.min(left, blockBytes) * costs.remoteNsPerByte;
    }
    row[CLOCK_NS] = clock;
    row[REMOTE_NS] += clock - start;
    row[REMOTE_BYTES] += bytes;
    row[REMOTE_ACCESSES] += accesses;
    row[ROW_FIELDS + 2 * this.stages + module] += accesses;
  }

  /** `bytes` of the task board's words read or written, now: an access to module 0, where the board lies. */
  accessBoard(bytes: number): void {
    if (bytes <= 0) return;
    this.onBoard = true;
    try {
      this.access(BOARD_MODULE, bytes);
    } finally {
      this.onBoard = false;
    }
    this.row[BOARD_ACCESSES] += Math.ceil(bytes / this.model.blockBytes);
    this.row[BOARD_BYTES] += bytes;
  }

  /** This processor counted a map task first at its stage's barrier. */
  arrived(): void {
    this.row[BARRIER_ARRIVALS]++;
  }

  /** A reduce task of this processor stopped waiting for its barrier before it completed. */
  late(): void {
    this.row[BARRIER_LATE]++;
  }

  /** The processor works through `bytes` of input. */
  compute(bytes: number): void {
    if (bytes <= 0) return;
    const ns = (bytes * 1e9) / this.model.nodeBytesPerSec;
    this.row[CLOCK_NS] += ns;
    this.row[COMPUTE_NS] += ns;
  }

  /** What the processor reads was written at `ns` (on its writer's clock): it cannot read it sooner. */
  waitUntil(ns: number): void {
    const behind = ns - this.row[CLOCK_NS];
    if (behind <= 0) return;
    this.row[CLOCK_NS] = ns;
    this.row[WAIT_NS] += behind;
  }

  /**
   * The clock moves on to the latest of all processors' clocks: when a stage starts only after
   * every processor is done with the one before. (Those that have started the new stage already
   * count too, so this may be a little late.)
   */
  catchUp(): void {
    const all = new Float64Array(this.row.buffer);
    const words = this.row.length;
    let latest = 0;
    for (let at = CLOCK_NS; at < all.length; at += words) latest = Math.max(latest, all[at]);
    this.waitUntil(latest);
  }

  /** Map output bytes that did not fit in this processor's module and went to disk (outside the model). */
  spilled(bytes: number): void {
    this.row[SPILLED_BYTES] += bytes;
  }
}

/** The memory module the task board lies in (task-board.ts). */
export const BOARD_MODULE = 0;

const ports = new WeakMap<SharedArrayBuffer, Map<number, FabricPort>>();

/** The port of a processor in this thread: one per processor, so that its own claims are known to it. */
export function fabricPort(memory: FabricMemory, processor: number, model: ButterflyModel): FabricPort {
  let byProcessor = ports.get(memory.figures);
  if (!byProcessor) ports.set(memory.figures, (byProcessor = new Map()));
  let port = byProcessor.get(processor);
  if (!port) byProcessor.set(processor, (port = new FabricPort(memory, processor, model)));
  return port;
}

export interface FabricTotals {
  stages: number;
  clocksNs: number[];            // per processor
  computeNs: number;
  waitNs: number;
  localBytes: number;
  localAccesses: number;
  localNs: number;
  remoteBytes: number;
  remoteAccesses: number;
  remoteNs: number;
  spilledBytes: number;
  conflictsPerStage: number[];
  boardAccesses: number;
  boardBytes: number;
  boardConflictsPerStage: number[];
  barrierArrivals: number;
  barrierLate: number;
  remoteAccessesByModule: number[];
  conflictsByModule: number[];
}

/** The sums of every processor's row, for the report. */
export function readFabric(memory: FabricMemory): FabricTotals {
  const { nodes } = memory;
  const stages = stagesOf(nodes);
  const words = rowWords(nodes);
  const all = new Float64Array(memory.figures);
  const sum = (field: number): number => {
    let total = 0;
    for (let p = 0; p < nodes; p++) total += all[p * words + field];
    return total;
  };
  return {
    stages,
    clocksNs: Array.from({ length: nodes }, (_, p) => all[p * words + CLOCK_NS]),
    computeNs: sum(COMPUTE_NS),
    waitNs: sum(WAIT_NS),
    localBytes: sum(LOCAL_BYTES),
    localAccesses: sum(LOCAL_ACCESSES),
    localNs: sum(LOCAL_NS),
    remoteBytes: sum(REMOTE_BYTES),
    remoteAccesses: sum(REMOTE_ACCESSES),
    remoteNs: sum(REMOTE_NS),
    spilledBytes: sum(SPILLED_BYTES),
    conflictsPerStage: Array.from({ length: stages }, (_, s) => sum(ROW_FIELDS + s)),
    boardAccesses: sum(BOARD_ACCESSES),
    boardBytes: sum(BOARD_BYTES),
    boardConflictsPerStage: Array.from({ length: stages }, (_, s) => sum(ROW_FIELDS + stages + s)),
    barrierArrivals: sum(BARRIER_ARRIVALS),
    barrierLate: sum(BARRIER_LATE),
    remoteAccessesByModule: Array.from({ length: nodes }, (_, m) => sum(ROW_FIELDS + 2 * stages + m)),
    conflictsByModule: Array.from({ length: nodes }, (_, m) => sum(ROW_FIELDS + 2 * stages + nodes + m)),
  };
}
