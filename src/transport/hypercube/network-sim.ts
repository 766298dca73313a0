// Deterministic discrete-event model of store-and-forward routing on a hypercube: each directed link
// is a FIFO server, messages follow e-cube routes, and contention is resolved in simulated time.
import { MinHeap } from '../../core/kway-merge.ts';
import { checkDimensions, checkNode, crossesBisection, ecubeRoute, nodeCount } from './topology.ts';

/** One directed link: a fixed per-hop latency plus a transmission time of bytes / bandwidth. */
export interface LinkModel {
  latencyUs: number;
  bandwidthBytesPerSec: number;
}

export const DEFAULT_LINK: Readonly<LinkModel> = Object.freeze({ latencyUs: 5, bandwidthBytesPerSec: 1e9 });

/** A message injected at src at sendUs (simulated microseconds). */
export interface Message {
  src: number;
  dst: number;
  bytes: number;
  sendUs: number;
}

export interface Delivery {
  arrivalUs: number;
  hops: number;
}

/** What one directed link carried; busyUs is the total transmission time (latency excluded). */
export interface LinkStats {
  from: number;
  to: number;
  bytes: number;
  busyUs: number;
  messages: number;
}

export interface NetworkStats {
  messages: number;
  bytes: number;
  /** The latest arrival, 0 if there are no messages. */
  simulatedUs: number;
  meanHops: number;
  maxHops: number;
  /** Only the links that carried at least one message, sorted by from then to. */
  links: LinkStats[];
  /** Mean busy time over the links listed in `links` (those that carried something). */
  meanLinkBusyUs: number;
  maxLinkBusyUs: number;
  /** The link that carried the most bytes; ties go to the lowest from, then to. */
  hottestLink?: { from: number; to: number; bytes: number };
  /** Bytes that crossed the highest-bit bisection, counted once per crossing. */
  bisectionBytes: number;
}

export interface SimulationResult {
  /** Per message, in input order. */
  deliveries: Delivery[];
  stats: NetworkStats;
}

/** A message that has fully arrived at route[hop] at timeUs and now needs the link to route[hop + 1]. */
interface HopEvent {
  timeUs: number;
  message: number;
  hop: number;
}

interface LinkState extends LinkStats {
  freeAtUs: number;
}

// Global (time, message index, hop) order: processing hop requests in this order makes each link
// FIFO by arrival time with ties broken by message index, independently of the input array order.
function eventBefore(a: HopEvent, b: HopEvent): boolean {
  if (a.timeUs !== b.timeUs) return a.timeUs < b.timeUs;
  if (a.message !== b.message) return a.message < b.message;
  return a.hop < b.hop;
}

/** Simulates the delivery of all messages on a d-dimensional hypercube. */
export function simulate(messages: readonly Message[], d: number, link: LinkModel = DEFAULT_LINK): SimulationResult {
  checkDimensions(d);
  checkLink(link);
  messages.forEach((m, i) => checkMessage(m, d, `messages[${i}]`));
  const routes = messages.map((m) => ecubeRoute(m.src, m.dst, d));
  // A message to itself (or a hop-less route) is delivered when sent.
  const deliveries = messages.map((m, i): Delivery => ({ arrivalUs: m.sendUs, hops: routes[i].length - 1 }));
  const queue = new MinHeap<HopEvent>(eventBefore);
  routes.forEach((route, i) => {
    if (route.length > 1) queue.push({ timeUs: messages[i].sendUs, message: i, hop: 0 });
  });
  const links = new Map<number, LinkState>();
  let bisectionBytes = 0;
  const n = nodeCount(d);
  for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
    const route = routes[event.message];
    const from = route[event.hop];
    const to = route[event.hop + 1];
    const key = from * n + to;
    let state = links.get(key);
    if (!state) links.set(key, (state = { from, to, bytes: 0, busyUs: 0, messages: 0, freeAtUs: 0 }));
    const arrivalUs = transmit(state, messages[event.message].bytes, event.timeUs, link);
    if (crossesBisection(from, to, d)) bisectionBytes += messages[event.message].bytes;
    if (event.hop + 2 === route.length) deliveries[event.message].arrivalUs = arrivalUs;
    else queue.push({ timeUs: arrivalUs, message: event.message, hop: event.hop + 1 });
  }
  const linkList = [...links.keys()].sort((a, b) => a - b).map((k) => linkStats(links.get(k)!));
  return { deliveries, stats: summarize(messages, deliveries, linkList, bisectionBytes) };
}

/**
 * Occupies the link for the transmission of `bytes` requested at readyUs; returns when the whole
 * message has arrived at the far end. The link frees right after transmission (pipelined wire).
 */
function transmit(state: LinkState, bytes: number, readyUs: number, link: LinkModel): number {
  const txUs = (bytes * 1e6) / link.bandwidthBytesPerSec;
  const startUs = Math.max(readyUs, state.freeAtUs);
  state.freeAtUs = startUs + txUs;
  state.bytes += bytes;
  state.busyUs += txUs;
  state.messages++;
  return startUs + txUs + link.latencyUs;
}

function linkStats(state: LinkState): LinkStats {
  return { from: state.from, to: state.to, bytes: state.bytes, busyUs: state.busyUs, messages: state.messages };
}

function summarize(
  messages: readonly Message[],
  deliveries: readonly Delivery[],
  links: LinkStats[],
  bisectionBytes: number,
): NetworkStats {
  let bytes = 0;
  let hops = 0;
  let maxHops = 0;
  let simulatedUs = 0;
  messages.forEach((m, i) => {
    bytes += m.bytes;
    hops += deliveries[i].hops;
    maxHops = Math.max(maxHops, deliveries[i].hops);
    simulatedUs = Math.max(simulatedUs, deliveries[i].arrivalUs);
  });
  let busy = 0;
  let maxLinkBusyUs = 0;
  let hottest: LinkStats | undefined;
  for (const l of links) {
    busy += l.busyUs;
    maxLinkBusyUs = Math.max(maxLinkBusyUs, l.busyUs);
    if (!hottest || l.bytes > hottest.bytes) hottest = l; // links are sorted, so ties keep the lowest
  }
  return {
    messages: messages.length,
    bytes,
    simulatedUs,
    meanHops: messages.length > 0 ? hops / messages.length : 0,
    maxHops,
    links,
    meanLinkBusyUs: links.length > 0 ? busy / links.length : 0,
    maxLinkBusyUs,
    ...(hottest ? { hottestLink: { from: hottest.from, to: hottest.to, bytes: hottest.bytes } } : {}),
    bisectionBytes,
  };
}

function checkLink(link: LinkModel): void {
  if (!Number.isFinite(link.latencyUs) || link.latencyUs < 0) {
    throw new RangeError(`link latencyUs must be a finite number >= 0, got ${link.latencyUs}`);
  }
  if (!Number.isFinite(link.bandwidthBytesPerSec) || link.bandwidthBytesPerSec <= 0) {
    throw new RangeError(`link bandwidthBytesPerSec must be a finite number > 0, got ${link.bandwidthBytesPerSec}`);
  }
}

function checkMessage(m: Message, d: number, what: string): void {
  checkNode(m.src, d, `${what}.src`);
  checkNode(m.dst, d, `${what}.dst`);
  if (!Number.isFinite(m.bytes) || m.bytes < 0) {
    throw new RangeError(`${what}.bytes must be a finite number >= 0, got ${m.bytes}`);
  }
  if (!Number.isFinite(m.sendUs) || m.sendUs < 0) {
    throw new RangeError(`${what}.sendUs must be a finite number >= 0, got ${m.sendUs}`);
  }
}

/** Collects messages one at a time (validated on send) and simulates all of them on run(). */
export class HypercubeNetwork {
  private readonly messages: Message[] = [];

  constructor(
    readonly dimensions: number,
    readonly link: LinkModel = DEFAULT_LINK,
  ) {
    checkDimensions(dimensions);
    checkLink(link);
  }

  get size(): number {
    return this.messages.length;
  }

  /** Queues a message; returns its index in the run() deliveries. */
  send(src: number, dst: number, bytes: number, sendUs = 0): number {
    const message = { src, dst, bytes, sendUs };
    checkMessage(message, this.dimensions, 'message');
    return this.messages.push(message) - 1;
  }

  /** Simulates every message sent so far; more may be sent and run() called again. */
  run(): SimulationResult {
    return simulate(this.messages, this.dimensions, this.link);
  }
}
