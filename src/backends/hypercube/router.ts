// The routers of the nodes a thread hosts. A message leaves its node only on a link to a
// neighbour: a router that holds a message for another node sends it on to the neighbour across
// the lowest dimension in which they still differ (e-cube order), after the link model has said
// when the link carries it (link-model.ts). Neighbours hosted by the same thread are reached on
// the thread's next turn, others through a MessagePort between the two threads: a thread busy
// with a task's computation holds back what it should forward, as a busy node would.
import type { MessagePort } from 'node:worker_threads';
import { TransportUnavailableError } from '../../errors.ts';
import { encodeError } from './endpoint.ts';
import { FabricStats, LINK, NODE } from './fabric-stats.ts';
import { ecubeStep, popcount } from './topology.ts';
import { LinkCalendar, crossLink, type LinkModel } from './link-model.ts';
import { FLAG, Kind, decodePacket, destinationOf, encodePacket, isShuffle, stampHop, timeOf } from './packet.ts';

/** What a thread of the machine needs to carry its nodes' messages (structured-clonable; the ports are transferred). */
export interface RouterThreadData {
  nodes: number;
  dimensions: number;
  threads: number;
  thread: number;
  model: LinkModel;
  stats: SharedArrayBuffer;
  /** To each other thread, by thread number. */
  ports: Record<number, MessagePort>;
  /** Thread 0 (hosting node 0): to the master, in the main thread. */
  hostPort?: MessagePort;
}

/** Fetches remembered per thread to recognise one asked again (a retransmission). */
const MAX_FETCHES_REMEMBERED = 65_536;

/** Where a router hands a message addressed to one of its nodes. */
export type Deliver = (node: number, bytes: Uint8Array) => void;

export class Routers {
  readonly stats: FabricStats;
  /** Whether a node is cut off from the network now (--chaos partition=worker-<k>@...); none by default. */
  cutOff: (node: number) => boolean = () => false;
  private readonly local: [number, Uint8Array][] = [];
  private flushing = false;
  private fetchesSeen = new Set<string>();
  /** The busy times of the links leaving this thread's nodes (only their routers send on them). */
  private readonly calendars = new Map<number, LinkCalendar>();

  constructor(private readonly data: RouterThreadData, private readonly deliver: Deliver) {
    this.stats = new FabricStats(data.nodes, data.dimensions, data.stats);
    for (const port of Object.values(data.ports)) this.listen(port);
    if (data.hostPort) this.listen(data.hostPort);
  }

  /** A message sent by an endpoint of `node` (or, at node 0, by the master): it starts there. */
  inject(node: number, bytes: Uint8Array): void {
    if (isShuffle(bytes)) {
      const at = this.stats.node(node) + NODE.shuffleFirstUs;
      this.stats.nodes[at] = Math.min(this.stats.nodes[at], timeOf(bytes));
    }
    this.arrive(node, bytes, false);
  }

  private listen(port: MessagePort): void {
    port.on('message', ({ node, bytes }: { node: number; bytes: Uint8Array }) => this.arrive(node, bytes, true));
    port.unref();
  }

  private threadOf(node: number): number {
    return node % this.data.threads;
  }

  private arrive(node: number, bytes: Uint8Array, relayed: boolean): void {
    const dst = destinationOf(bytes);
    if (dst === node) {
      this.count(node, bytes);
      if ((bytes[1] & FLAG.toMaster) !== 0 && bytes[0] === Kind.Request) this.data.hostPort!.postMessage({ node, bytes }, transferOf(bytes));
      else this.deliver(node, bytes);
      return;
    }
    if (relayed) this.stats.nodes[this.stats.node(node) + NODE.forwarded]++;
    this.forward(node, dst, bytes, relayed);
  }

  private forward(node: number, dst: number, bytes: Uint8Array, relayed: boolean): void {
    const { dimension, next } = ecubeStep(node, dst);
    // E-cube routes have no detour: a message whose route passes through a node cut off goes no
    // further. A request is answered at once by the node that cannot send it on (its link to the
    // next is down), as a broken connection is; anything else is lost, and its stream times out.
    if ((relayed && this.cutOff(node)) || this.cutOff(next)) {
      this.stats.nodes[this.stats.node(node) + NODE.refused]++;
      if (bytes[0] === Kind.Request && !this.cutOff(node)) this.bounce(node, bytes, this.cutOff(next) ? next : node);
      return;
    }
    const { links } = this.stats;
    const at = this.stats.link(node, dimension);
    let calendar = this.calendars.get(at);
    if (!calendar) this.calendars.set(at, (calendar = new LinkCalendar()));
    const times = crossLink(this.data.model, bytes.length, timeOf(bytes), calendar, popcount(next ^ dst));
    links[at + LINK.bytes] += bytes.length;
    links[at + LINK.messages]++;
    links[at + LINK.busyUs] += times.freeAtUs - times.startUs;
    if (isShuffle(bytes)) links[at + LINK.shuffleBytes] += bytes.length;
    stampHop(bytes, times.readyUs);
    const thread = this.threadOf(next);
    if (thread === this.data.thread) this.later(next, bytes);
    else this.data.ports[thread].postMessage({ node: next, bytes }, transferOf(bytes));
  }

  /** The error a request's sender gets from `node`, which could not send it on past `down`. */
  private bounce(node: number, bytes: Uint8Array, down: number): void {
    const request = decodePacket(bytes);
    const why = new TransportUnavailableError(`hypercube: node ${down} is cut off from the network, and the route from node ${request.src} to node ${request.dst} passes through it`);
    const error = encodePacket({
      kind: Kind.Error, flags: request.flags & FLAG.shuffle, src: node, dst: request.src, callId: request.callId, timeUs: request.timeUs, method: '', payload: encodeError(why),
    });
    this.arrive(node, error, false);
  }

  /** A neighbour in this thread gets the message on the thread's next turn, not inside this call. */
  private later(node: number, bytes: Uint8Array): void {
    this.local.push([node, bytes]);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      for (const [to, message] of this.local.splice(0)) this.arrive(to, message, true);
    });
  }

  /** Figures of a message delivered at its destination. */
  private count(node: number, bytes: Uint8Array): void {
    const { nodes } = this.stats;
    const at = this.stats.node(node);
    const hops = bytes[6];
    const shuffle = isShuffle(bytes);
    nodes[at + (shuffle ? NODE.shuffleMessages : NODE.controlMessages)]++;
    nodes[at + (shuffle ? NODE.shuffleBytes : NODE.controlBytes)] += bytes.length;
    nodes[at + (shuffle ? NODE.shuffleHops : NODE.controlHops)] += hops;
    nodes[at + NODE.maxHops] = Math.max(nodes[at + NODE.maxHops], hops);
    if ((bytes[1] & FLAG.retransmission) !== 0) nodes[at + NODE.retransmissions]++;
    if (shuffle) nodes[at + NODE.shuffleLastUs] = Math.max(nodes[at + NODE.shuffleLastUs], timeOf(bytes));
    if (shuffle && bytes[0] === Kind.Request) {
      nodes[at + NODE.fetchRequests]++;
      nodes[at + NODE.fetchRequestHops] += hops;
      // The same fetch from the same node again: the reducer asks a second time (its first try broke off).
      const key = `${bytes.subarray(2, 4).join(',')}:${Buffer.from(bytes.subarray(20)).toString('base64')}`;
      if (this.fetchesSeen.has(key)) nodes[at + NODE.retransmissions]++;
      else {
        // Bounded: a second try comes within seconds, not after a job's worth of other fetches.
        if (this.fetchesSeen.size >= MAX_FETCHES_REMEMBERED) this.fetchesSeen = new Set();
        this.fetchesSeen.add(key);
      }
    }
  }
}

/** A message's memory moves to the other thread when it is the message's alone; a view into more is copied. */
export function transferOf(bytes: Uint8Array): ArrayBuffer[] {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : [];
}
