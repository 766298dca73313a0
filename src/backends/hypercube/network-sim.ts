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

interface LinkState extends LinkStats {
  freeAtUs: number;
}

/** Simulates the delivery of all messages on a d-dimensional hypercube. */
export function simulate(messages: readonly Message[], d: number, link: LinkModel = DEFAULT_LINK): SimulationResult {
  const network = new EventNetwork(d, link);
  messages.forEach((m, i) => {
    checkMessage(m, d, `messages[${i}]`);
    network.send(m.src, m.dst, m.bytes, m.sendUs);
  });
  network.run();
  return { deliveries: network.deliveries(), stats: network.stats() };
}

/**
 * An event: a message that has fully arrived at route[hop] and now needs the link to
 * route[hop + 1], or a callback due at timeUs.
 */
type NetEvent =
  | { timeUs: number; kind: 0; seq: number; fn: () => void }
  | { timeUs: number; kind: 1; message: number; hop: number };

// Global (time, callbacks first, then message index, hop) order: processing hop requests in this
// order makes each link FIFO by arrival time with ties broken by message index, independently of
// the order of sending; callbacks due at the same time run first, so what they send competes.
function eventBefore(a: NetEvent, b: NetEvent): boolean {
  if (a.timeUs !== b.timeUs) return a.timeUs < b.timeUs;
  if (a.kind !== b.kind) return a.kind < b.kind;
  if (a.kind === 0 && b.kind === 0) return a.seq < b.seq;
  const x = a as Extract<NetEvent, { kind: 1 }>;
  const y = b as Extract<NetEvent, { kind: 1 }>;
  return x.message !== y.message ? x.message < y.message : x.hop < y.hop;
}

interface Sent extends Message {
  route: number[];
  arrivalUs: number;
  onArrive?: (arrivalUs: number) => void;
}

/**
 * The discrete-event network: messages may be sent, and callbacks scheduled, from inside
 * callbacks (a reply sent when a request arrives), always at or after the current simulated time.
 */
export class EventNetwork {
  private readonly queue = new MinHeap<NetEvent>(eventBefore);
  private readonly sent: Sent[] = [];
  private readonly links = new Map<number, LinkState>();
  private bisectionBytes = 0;
  private calls = 0;
  /** The simulated time of the event being processed. */
  nowUs = 0;

  constructor(
    readonly dimensions: number,
    readonly link: LinkModel = DEFAULT_LINK,
  ) {
    checkDimensions(dimensions);
    checkLink(link);
  }

  /** Sends bytes from src to dst at atUs (default: now); onArrive runs when the last byte is there. */
  send(src: number, dst: number, bytes: number, atUs = this.nowUs, onArrive?: (arrivalUs: number) => void): void {
    const message = { src, dst, bytes, sendUs: atUs };
    checkMessage(message, this.dimensions, 'message');
    if (atUs < this.nowUs) throw new RangeError(`cannot send at ${atUs} us, before the current time ${this.nowUs} us`);
    const route = ecubeRoute(src, dst, this.dimensions);
    const index = this.sent.push({ ...message, route, arrivalUs: atUs, onArrive }) - 1;
    // A message to itself is delivered when sent (through the queue, so callbacks keep time order).
    if (route.length > 1) this.queue.push({ timeUs: atUs, kind: 1, message: index, hop: 0 });
    else if (onArrive) this.at(atUs, () => onArrive(atUs));
  }

  /** Runs fn at simulated time timeUs. */
  at(timeUs: number, fn: () => void): void {
    if (timeUs < this.nowUs) throw new RangeError(`cannot schedule at ${timeUs} us, before the current time ${this.nowUs} us`);
    this.queue.push({ timeUs, kind: 0, seq: this.calls++, fn });
  }

  /** Processes every event, including those that events cause. */
  run(): void {
    const n = nodeCount(this.dimensions);
    for (let event = this.queue.pop(); event !== undefined; event = this.queue.pop()) {
      this.nowUs = event.timeUs;
      if (event.kind === 0) {
        event.fn();
        continue;
      }
      const message = this.sent[event.message];
      const from = message.route[event.hop];
      const to = message.route[event.hop + 1];
      const key = from * n + to;
      let state = this.links.get(key);
      if (!state) this.links.set(key, (state = { from, to, bytes: 0, busyUs: 0, messages: 0, freeAtUs: 0 }));
      const arrivalUs = transmit(state, message.bytes, event.timeUs, this.link);
      if (crossesBisection(from, to, this.dimensions)) this.bisectionBytes += message.bytes;
      if (event.hop + 2 < message.route.length) {
        this.queue.push({ timeUs: arrivalUs, kind: 1, message: event.message, hop: event.hop + 1 });
        continue;
      }
      message.arrivalUs = arrivalUs;
      const { onArrive } = message;
      if (onArrive) this.at(arrivalUs, () => onArrive(arrivalUs));
    }
  }

  /** Per message sent, in order of sending. */
  deliveries(): Delivery[] {
    return this.sent.map((m) => ({ arrivalUs: m.arrivalUs, hops: m.route.length - 1 }));
  }

  stats(): NetworkStats {
    const linkList = [...this.links.keys()].sort((a, b) => a - b).map((k) => linkStats(this.links.get(k)!));
    return summarize(this.sent, this.deliveries(), linkList, this.bisectionBytes);
  }
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
