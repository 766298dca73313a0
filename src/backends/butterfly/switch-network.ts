// The butterfly switch of a shared-memory multiprocessor (after the BBN Butterfly): N = 2^k
// processors reach N memory modules through k stages of 2x2 switches, by destination-tag routing.
// Pure model: routes, the conflict rule and access costs, the one copy of them that the live
// fabric (switch-fabric.ts) runs; no memory is moved here.

export interface Hop {
  stage: number;                 // 0 .. k-1
  switchId: number;              // 0 .. N/2-1 within the stage
  port: 0 | 1;                   // the switch output taken: the destination's bit for this stage
  row: number;                   // the line the message is on after the stage
}

export function stagesOf(nodes: number): number {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 1024 || (nodes & (nodes - 1)) !== 0) {
    throw new RangeError(`a butterfly has a power-of-two number of nodes from 1 to 1024, not ${nodes}`);
  }
  return Math.log2(nodes);
}

function checkNode(node: number, nodes: number): void {
  if (!Number.isInteger(node) || node < 0 || node >= nodes) throw new RangeError(`node ${node} is not in 0..${nodes - 1}`);
}

/**
 * The path from processor src to memory module dst. Stage s joins the rows that differ in bit
 * (k-1-s); the switch sends the message out on the port named by that bit of dst, so after the
 * last stage the message is on row dst. There is no choice anywhere: the path is unique.
 */
export function route(src: number, dst: number, nodes: number): Hop[] {
  const k = stagesOf(nodes);
  checkNode(src, nodes);
  checkNode(dst, nodes);
  const hops: Hop[] = [];
  let row = src;
  for (let stage = 0; stage < k; stage++) {
    const bit = 1 << (k - 1 - stage);
    const port = (dst & bit) === 0 ? 0 : 1;
    row = port === 0 ? row & ~bit : row | bit;
    hops.push({ stage, switchId: switchOf(row, bit), port, row });
  }
  return hops;
}

/** The switch of a stage that handles row: the rows it joins differ only in the stage's bit. */
function switchOf(row: number, bit: number): number {
  const low = row & (bit - 1);
  const high = (row >> 1) & ~(bit - 1);
  return high | low;
}

// The conflict rule. Every output line (stage s, row r: line s * N + r) keeps the cycles it was
// claimed in, in a table of Int32 words that every processor shares: slot (cycle mod
// LINE_WINDOW_CYCLES) of the line holds cycle + 1 (0: never claimed). The processors' simulated
// clocks are not in lockstep, so a single "busy until" word would make one that is behind in
// simulated time wait for one that is ahead; a window of cycles lets each claim the cycles it
// wants. Claims more than a window apart overwrite each other: a conflict may then go unseen,
// but none is ever invented.
export const LINE_WINDOW_CYCLES = 4096;

/** Int32 words of the line table of a machine of `nodes` nodes. */
export function lineTableWords(nodes: number): number {
  return stagesOf(nodes) * nodes * LINE_WINDOW_CYCLES;
}

/** The lines a route claims, one per stage, as line numbers of the table (stage * nodes + row). */
export function routeLines(src: number, dst: number, nodes: number): number[] {
  return route(src, dst, nodes).map((hop) => hop.stage * nodes + hop.row);
}

/**
 * Claims `line` for `cycle` (with compareExchange: processors claim from their own threads).
 * False when another access holds it in that cycle. `held` is the claimant's own record of the
 * cycle + 1 it last claimed each line in, so that one processor's short accesses within one
 * cycle do not refuse each other.
 */
export function claimLine(table: Int32Array, line: number, cycle: number, held: Int32Array): boolean {
  const at = line * LINE_WINDOW_CYCLES + (cycle % LINE_WINDOW_CYCLES);
  const mark = (cycle + 1) | 0;
  for (;;) {
    const old = Atomics.load(table, at);
    if (old === mark) return held[line] === mark;
    if (Atomics.compareExchange(table, at, old, mark) === old) {
      held[line] = mark;
      return true;
    }
  }
}

/**
 * One remote access crossing the stages, trying first in `cycle`: at each stage it claims its
 * route's output line. A line already taken in that cycle refuses it (one conflict at that stage,
 * reported to `refused`) and it tries again the next cycle from the first stage, as the BBN
 * Butterfly's switch refused a message and the processor node sent it again; the lines it had
 * claimed before the refusal stay taken for that cycle. Returns the cycle it got through in.
 */
export function crossSwitch(table: Int32Array, lines: readonly number[], cycle: number, held: Int32Array, refused: (stage: number) => void): number {
  for (let at = cycle; ; at++) {
    const blocked = lines.findIndex((line) => !claimLine(table, line, at, held));
    if (blocked < 0) return at;
    refused(blocked);
  }
}

export interface AccessCosts {
  localNsPerByte: number;        // reading or writing one's own memory module
  remoteNsPerByte: number;       // the transfer through the switch, per byte
  perStageNs: number;            // the fixed cost of crossing one switch stage
}

export const DEFAULT_ACCESS_COSTS: AccessCosts = { localNsPerByte: 0.1, remoteNsPerByte: 0.4, perStageNs: 50 };

/** Simulated time of one access of `bytes` from processor src to module dst, when nothing is in its way. */
export function accessNs(src: number, dst: number, bytes: number, nodes: number, costs: AccessCosts = DEFAULT_ACCESS_COSTS): number {
  if (src === dst) return bytes * costs.localNsPerByte;
  return stagesOf(nodes) * costs.perStageNs + bytes * costs.remoteNsPerByte;
}

/**
 * A switch cycle: as long as a remote access of a whole block. At least 1 ns, so that cycles
 * stay countable when the knobs make remote accesses free.
 */
export function cycleNs(nodes: number, blockBytes: number, costs: AccessCosts): number {
  return Math.max(1, stagesOf(nodes) * costs.perStageNs + blockBytes * costs.remoteNsPerByte);
}

/** How many times a remote access of `bytes` costs what the same access to one's own module does (null when local is free). */
export function remoteToLocal(bytes: number, nodes: number, costs: AccessCosts): number | null {
  const local = accessNs(0, 0, bytes, nodes, costs);
  if (local <= 0) return null;
  return nodes < 2 ? 1 : accessNs(0, 1, bytes, nodes, costs) / local;
}
