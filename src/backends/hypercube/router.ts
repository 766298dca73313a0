// The routers of the nodes a thread hosts. A message leaves its node only on a link to a
// neighbour: a router that holds a message for another node sends it on to the neighbour across
// the lowest dimension in which they still differ (e-cube order). Neighbours hosted by the same
// thread are reached on the thread's next turn, others through a MessagePort between the two
// threads: a thread busy with a task's computation holds back what it should forward, as a busy
// node would. Each router tells the timeline (timeline.ts, in the main thread) what it sent,
// passed on or refused, in the order it did so; the timeline times the hops.
import type { MessagePort } from 'node:worker_threads';
import { TransportUnavailableError } from '../../errors.ts';
import { encodeError } from './call-errors.ts';
import type { Timing } from './endpoint.ts';
import { FabricStats, LINK, NODE } from './fabric-stats.ts';
import { ecubeStep } from './topology.ts';
import { FLAG, Kind, countHop, decodePacket, destinationOf, encodePacket, idOf, isShuffle, isTimed } from './packet.ts';
import { messageId, type TimelineRecord } from './timeline.ts';

/** What a thread of the machine needs to carry its nodes' messages (structured-clonable; the ports are transferred). */
export interface RouterThreadData {
  nodes: number;
  dimensions: number;
  threads: number;
  thread: number;
  stats: SharedArrayBuffer;
  /** To each other thread, by thread number. */
  ports: Record<number, MessagePort>;
  /** Thread 0 (hosting node 0): to the master, in the main thread. */
  hostPort?: MessagePort;
  /** To the timeline, in the main thread. */
  timelinePort: MessagePort;
}

/** Numbers of the messages a router makes itself (a refusal's error), apart from its nodes' endpoints'. */
const ROUTER_SEQ = 2 ** 30;

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
  private nextSeq = ROUTER_SEQ;

  constructor(private readonly data: RouterThreadData, private readonly deliver: Deliver) {
    this.stats = new FabricStats(data.nodes, data.dimensions, data.stats);
    for (const port of Object.values(data.ports)) this.listen(port);
    // What the master on node 0 sends starts there.
    data.hostPort?.on('message', ({ node, bytes, timing }: { node: number; bytes: Uint8Array; timing?: Timing }) => this.inject(node, bytes, timing));
    data.hostPort?.unref();
  }

  /** A message sent by an endpoint of `node` (or, at node 0, by the master): it starts there. */
  inject(node: number, bytes: Uint8Array, timing?: Timing): void {
    if (timing) {
      const { measuredBytes = 0, ...rest } = timing;
      this.tell({
        t: 'sent',
        message: {
          id: idOf(bytes), src: node, dst: destinationOf(bytes), bytes: bytes.length - measuredBytes, shuffle: isShuffle(bytes),
          ...(bytes[0] === Kind.Request && (bytes[1] & FLAG.toMaster) !== 0 ? { toMaster: true } : {}), ...rest,
        },
      });
    }
    this.arrive(node, bytes, false);
  }

  /** Tells the timeline, in this thread's order. */
  tell(record: TimelineRecord): void {
    this.data.timelinePort.postMessage(record);
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
    const timed = isTimed(bytes);
    if ((relayed && this.cutOff(node)) || this.cutOff(next)) {
      this.stats.nodes[this.stats.node(node) + NODE.refused]++;
      if (timed) this.tell({ t: 'passed', id: idOf(bytes), node, on: false });
      if (bytes[0] === Kind.Request && !this.cutOff(node)) this.bounce(node, bytes, this.cutOff(next) ? next : node);
      return;
    }
    if (timed) this.tell({ t: 'passed', id: idOf(bytes), node, on: true });
    const { links } = this.stats;
    const at = this.stats.link(node, dimension);
    links[at + LINK.bytes] += bytes.length;
    links[at + LINK.messages]++;
    if (isShuffle(bytes)) links[at + LINK.shuffleBytes] += bytes.length;
    countHop(bytes);
    const thread = this.threadOf(next);
    if (thread === this.data.thread) this.later(next, bytes);
    else this.data.ports[thread].postMessage({ node: next, bytes }, transferOf(bytes));
  }

  /** The error a request's sender gets from `node`, which could not send it on past `down`. */
  private bounce(node: number, bytes: Uint8Array, down: number): void {
    const request = decodePacket(bytes);
    const why = new TransportUnavailableError(`hypercube: node ${down} is cut off from the network, and the route from node ${request.src} to node ${request.dst} passes through it`);
    const seq = this.nextSeq++;
    const error = encodePacket({
      kind: Kind.Error, flags: request.flags & (FLAG.shuffle | FLAG.untimed), src: node, dst: request.src, callId: request.callId, seq, order: 0, method: '', payload: encodeError(why),
    });
    const id = messageId(request.src, request.seq);
    // It answers the request, from where the request stopped.
    this.inject(node, error, isTimed(bytes) ? { ready: { after: [id], plusUs: 0 }, order: [request.src, request.order, 0], request: false, answers: { request: id, last: true } } : undefined);
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
    if (!isTimed(bytes)) nodes[at + NODE.untimed]++;
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
