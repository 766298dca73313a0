// The butterfly switch of a shared-memory multiprocessor (after the BBN Butterfly): N = 2^k
// processors reach N memory modules through k stages of 2x2 switches, by destination-tag routing.
// Pure model: routes, conflicts and access costs; no memory is moved here.

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

export interface Access {
  src: number;
  dst: number;
}

/**
 * Conflicts of accesses issued in the same cycle: per stage, how many accesses found the switch
 * output they wanted already taken by another (each extra claimant of an output line counts one).
 */
export function conflictsPerStage(accesses: readonly Access[], nodes: number): number[] {
  const k = stagesOf(nodes);
  const conflicts = new Array<number>(k).fill(0);
  const claimed = Array.from({ length: k }, () => new Set<number>());
  for (const { src, dst } of accesses) {
    for (const hop of route(src, dst, nodes)) {
      if (claimed[hop.stage].has(hop.row)) conflicts[hop.stage]++;
      else claimed[hop.stage].add(hop.row);
    }
  }
  return conflicts;
}

export interface AccessCosts {
  localNsPerByte: number;        // reading one's own memory module
  remoteNsPerByte: number;       // the transfer through the switch, per byte
  perStageNs: number;            // the fixed cost of crossing one switch stage
}

export const DEFAULT_ACCESS_COSTS: AccessCosts = { localNsPerByte: 0.1, remoteNsPerByte: 0.4, perStageNs: 50 };

/** Simulated time of one access of `bytes` from processor src to module dst. */
export function accessNs(src: number, dst: number, bytes: number, nodes: number, costs: AccessCosts = DEFAULT_ACCESS_COSTS): number {
  if (src === dst) return bytes * costs.localNsPerByte;
  return stagesOf(nodes) * costs.perStageNs + bytes * costs.remoteNsPerByte;
}
