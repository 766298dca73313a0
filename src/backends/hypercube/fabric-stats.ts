// What crossed the hypercube's links, counted as it crosses, in shared memory: each figure has
// one writer (a link's by the router that sends on it, a node's by the thread that hosts it), and
// the main thread reads them all for the report. Times are the timeline's (timeline.ts).

/** Per directed link (node * d + dimension). */
export const LINK = { bytes: 0, messages: 1, shuffleBytes: 2 } as const;
const LINK_FIELDS = 3;

/** Per node. */
export const NODE = {
  forwarded: 0,             // messages it received for another node and sent on
  controlMessages: 1,       // delivered here
  controlBytes: 2,
  controlHops: 3,
  shuffleMessages: 4,
  shuffleBytes: 5,
  shuffleHops: 6,
  maxHops: 7,
  retransmissions: 8,       // requests delivered here that were a second try
  fetchRequests: 9,         // fetches served here
  fetchRequestHops: 10,
  refused: 11,              // messages it could not send on: the next node on their route was cut off (or it was)
  untimed: 12,              // delivered here, outside the simulated clock (heartbeats, their answers, cancels)
} as const;
const NODE_FIELDS = 13;

export class FabricStats {
  readonly links: Float64Array;
  readonly nodes: Float64Array;

  constructor(readonly nodeCount: number, readonly dimensions: number, readonly memory = new SharedArrayBuffer(8 * (nodeCount * Math.max(1, dimensions) * LINK_FIELDS + nodeCount * NODE_FIELDS))) {
    const linkSlots = nodeCount * Math.max(1, dimensions) * LINK_FIELDS;
    this.links = new Float64Array(memory, 0, linkSlots);
    this.nodes = new Float64Array(memory, 8 * linkSlots, nodeCount * NODE_FIELDS);
  }

  /** Fresh figures (made once, by the main thread). */
  static create(nodeCount: number, dimensions: number): FabricStats {
    return new FabricStats(nodeCount, dimensions);
  }

  link(node: number, dimension: number): number {
    return (node * this.dimensions + dimension) * LINK_FIELDS;
  }

  node(node: number): number {
    return node * NODE_FIELDS;
  }
}
