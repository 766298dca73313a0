// What crossed the hypercube's links, counted as it crosses, in shared memory: each figure has
// one writer (a link's by the router that sends on it, a node's by the thread that hosts it, the
// master's by the main thread), and the main thread reads them all for the report.

/** Per directed link (node * d + dimension). */
export const LINK = { bytes: 0, messages: 1, busyUs: 2, shuffleBytes: 3 } as const;
const LINK_FIELDS = 4;

/** Per node. */
export const NODE = {
  clockUs: 0,               // the node's simulated time: its last arrival or the end of its last task
  forwarded: 1,             // messages it received for another node and sent on
  controlMessages: 2,       // delivered here
  controlBytes: 3,
  controlHops: 4,
  shuffleMessages: 5,
  shuffleBytes: 6,
  shuffleHops: 7,
  maxHops: 8,
  retransmissions: 9,       // requests delivered here that were a second try
  shuffleFirstUs: 10,       // the earliest send of a shuffle message from here
  shuffleLastUs: 11,        // the latest arrival of a shuffle message here
  fetchRequests: 12,        // fetches served here
  fetchRequestHops: 13,
  refused: 14,              // messages it could not send on: the next node on their route was cut off (or it was)
} as const;
const NODE_FIELDS = 15;

/** The master's (on node 0, in the main thread). */
export const HOST = { clockUs: 0, lastReportUs: 1 } as const;
const HOST_FIELDS = 2;

export class FabricStats {
  readonly links: Float64Array;
  readonly nodes: Float64Array;
  readonly host: Float64Array;

  constructor(readonly nodeCount: number, readonly dimensions: number, readonly memory = new SharedArrayBuffer(8 * (nodeCount * Math.max(1, dimensions) * LINK_FIELDS + nodeCount * NODE_FIELDS + HOST_FIELDS))) {
    const linkSlots = nodeCount * Math.max(1, dimensions) * LINK_FIELDS;
    this.links = new Float64Array(memory, 0, linkSlots);
    this.nodes = new Float64Array(memory, 8 * linkSlots, nodeCount * NODE_FIELDS);
    this.host = new Float64Array(memory, 8 * (linkSlots + nodeCount * NODE_FIELDS), HOST_FIELDS);
  }

  /** Fresh figures (made once, by the main thread). */
  static create(nodeCount: number, dimensions: number): FabricStats {
    const stats = new FabricStats(nodeCount, dimensions);
    for (let node = 0; node < nodeCount; node++) stats.nodes[node * NODE_FIELDS + NODE.shuffleFirstUs] = Infinity;
    return stats;
  }

  link(node: number, dimension: number): number {
    return (node * this.dimensions + dimension) * LINK_FIELDS;
  }

  node(node: number): number {
    return node * NODE_FIELDS;
  }
}
