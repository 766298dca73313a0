// The hypercube's simulated clock, run as a conservative discrete-event simulation beside the job.
// The node threads carry the real messages as fast as they can; each router tells the timeline
// what crossed it (a message sent, passed on or refused at a node), each endpoint what a message
// it sends waits for (the arrivals it follows, and any computation). The timeline times every hop
// with the link model (link-model.ts) in simulated-time order, and only as far as no message still
// to be heard of could come earlier: so the same job gives the same times whatever the threads'
// real order. It holds no message up: it lags behind the traffic, and catches up at the job's end
// (finish). The master waits for it, to serve the workers in simulated-time order (master-gate.ts).
//
// What bounds the messages still to come:
// - a node's worker, while it works, sends nothing earlier than what it works after (open); once
//   it waits for the answer to a request of its own (blocked), nothing earlier than that answer's
//   arrival, which sets it working again;
// - a node owes an answer to each request that has reached it (until its last answer is heard);
// - a message at a node waits for that node's router to say whether it went on (passed).
// Ties at one instant are broken by the key each sender gives (`order`), never by arrival.
// Pure: no I/O, no clock.
import { crossLink, LinkCalendar, type LinkModel } from './link-model.ts';
import { MinHeap } from '../../core/kway-merge.ts';
import { ecubeStep, popcount } from './topology.ts';

/** A message's name: its source node and its number there. */
export type MessageId = number;
export const messageId = (src: number, seq: number): MessageId => src * 2 ** 32 + seq;

/** When a message is ready to leave: after the latest of these messages has arrived (or stopped), plus plusUs. */
export interface Ready {
  after: readonly MessageId[];
  plusUs: number;
}

export interface SentMessage {
  id: MessageId;
  src: number;
  dst: number;
  bytes: number;
  shuffle: boolean;
  /** Orders messages ready at one instant (compared element by element): the same run after run. */
  order: readonly number[];
  ready: Ready;
  /** A request: the node it reaches owes an answer from then on (the master's: see MasterSide). */
  request: boolean;
  /** A request for the master, on node 0: the master answers in its own order (master-gate.ts). */
  toMaster?: boolean;
  /** An answer (reply, error, chunk, end) to this request; last: no more answers to it follow. */
  answers?: { request: MessageId; last: boolean };
}

/** What a node thread tells the timeline, in the order it happened there. */
export type TimelineRecord =
  | { t: 'sent'; message: SentMessage }
  | { t: 'passed'; id: MessageId; node: number; on: boolean }
  | { t: 'answered'; node: number; request: MessageId }
  | { t: 'open'; node: number; ready: Ready }
  | { t: 'blocked'; node: number; on?: MessageId };

interface Message extends SentMessage {
  /** Deps not yet arrived. */
  waitingFor: number;
  /** Where it is now, and since when (its latest hop event). */
  at?: { node: number; us: number };
  /** When it arrived at its destination, or stopped at a node that refused it. */
  reachedUs?: number;
  stoppedAt?: number;
}

interface HopEvent {
  us: number;
  id: MessageId;
  node: number;
  /** The arrival at its destination: no link is taken. */
  arrival: boolean;
}

/** The master's side of the timeline: it hears of each request's arrival, and bounds its own answers. */
export interface MasterSide {
  /** A request for the master arrived at node 0 at `us`. */
  arrived(id: MessageId, us: number): void;
  /** The earliest the master may still send an answer at (Infinity: it owes none). */
  owesFromUs(): number;
  /** A message was heard of (one of the master's answers, maybe). */
  heard(id: MessageId): void;
  /** The timeline moved on: what the master waits for may have come. */
  moved(): void;
}

export interface LinkTimes {
  busyUs: number;
}

/** The smallest time a hop that goes on takes (a link always takes some). */
function minHopUs(model: LinkModel, bytes: number): number {
  const txUs = (bytes * 1e6) / model.bandwidthBytesPerSec;
  return model.switching === 'store-and-forward' ? model.latencyUs + txUs : Math.min(model.hopUs, model.latencyUs + txUs);
}

export class Timeline {
  private readonly messages = new Map<MessageId, Message>();
  /** Messages waiting for one that has not arrived (or not been heard of) yet. */
  private readonly waiting = new Map<MessageId, Message[]>();
  private readonly events = new MinHeap<HopEvent>((a, b) => this.before(a, b));
  /** Decisions of routers not yet needed, and hop events waiting for one: `${id}:${node}`. */
  private readonly decisions = new Map<string, boolean>();
  private readonly awaiting = new Map<string, HopEvent>();
  /** Per node: what a working worker follows, or the request whose answer it waits for. */
  private readonly working: (Ready | undefined)[];
  private readonly waitingOn: (MessageId | undefined)[];
  /** Per node: requests it owes answers to, and when they reached it. */
  private readonly owed: Map<MessageId, number>[];
  /** Requests answered before the timeline had them arrive (it lags behind the job). */
  private readonly answeredEarly = new Set<MessageId>();
  /** A request -> its first answer heard of (for a worker that waits for it). */
  private readonly answerOf = new Map<MessageId, MessageId>();
  private readonly calendars = new Map<number, LinkCalendar>();
  readonly links = new Map<number, LinkTimes>();
  /** Per node: the first shuffle message leaving it, the last arriving. */
  readonly shuffleFirstUs: number[];
  readonly shuffleLastUs: number[];
  private nowUs = 0;
  private finishing = false;
  /** Nodes presumed gone (not heard from for a while): what they might still send is not waited for. */
  private gone = new Set<number>();
  master?: MasterSide;

  constructor(readonly nodes: number, readonly dimensions: number, private readonly model: LinkModel) {
    // Until a node has said what it waits for, it may send at 0.
    this.working = Array.from({ length: nodes }, () => ({ after: [], plusUs: 0 }));
    this.waitingOn = new Array<MessageId | undefined>(nodes).fill(undefined);
    this.owed = Array.from({ length: nodes }, () => new Map());
    this.shuffleFirstUs = new Array<number>(nodes).fill(Infinity);
    this.shuffleLastUs = new Array<number>(nodes).fill(0);
  }

  /** When a message arrived (or stopped), once the timeline has got there. */
  reachedUs(id: MessageId): number | undefined {
    return this.messages.get(id)?.reachedUs;
  }

  /** The simulated time up to which every hop is timed. */
  get timedUs(): number {
    return this.nowUs;
  }

  apply(record: TimelineRecord): void {
    switch (record.t) {
      case 'sent': return this.sent(record.message);
      case 'passed': return this.passed(record.id, record.node, record.on);
      case 'answered': return this.answered(record.node, record.request);
      case 'open': return this.open(record.node, record.ready);
      case 'blocked': return this.blocked(record.node, record.on);
    }
  }

  sent(message: SentMessage): void {
    this.master?.heard(message.id);
    if (this.messages.has(message.id)) return;
    const m: Message = { ...message, waitingFor: 0 };
    this.messages.set(m.id, m);
    if (m.answers && !this.answerOf.has(m.answers.request)) this.answerOf.set(m.answers.request, m.id);
    if (m.answers?.last) this.settle(m.src, m.answers.request);
    for (const dep of m.ready.after) {
      if (this.messages.get(dep)?.reachedUs !== undefined) continue;
      m.waitingFor++;
      const list = this.waiting.get(dep);
      if (list) list.push(m);
      else this.waiting.set(dep, [m]);
    }
    if (m.waitingFor === 0) this.readyAt(m);
    this.advance();
  }

  /** A node's router passed a message on (true) or refused it (false). */
  passed(id: MessageId, node: number, on: boolean): void {
    const key = `${id}:${node}`;
    const event = this.awaiting.get(key);
    this.decisions.set(key, on);
    if (event) {
      this.awaiting.delete(key);
      this.push(event);
    }
    this.advance();
  }

  /** A node stopped answering a request without a last answer (a stream cancelled, a node gone). */
  answered(node: number, request: MessageId): void {
    this.settle(node, request);
    this.advance();
  }

  private settle(node: number, request: MessageId): void {
    if (!this.owed[node].delete(request) && this.messages.get(request)?.reachedUs === undefined) this.answeredEarly.add(request);
  }

  /** A node's worker works on, after these arrivals: it sends nothing earlier. */
  open(node: number, ready: Ready): void {
    this.working[node] = ready;
    this.waitingOn[node] = undefined;
    this.advance();
  }

  /**
   * A node's worker waits for the answer to its request `on` (none: for nothing the timeline
   * sees): what it sends next follows that answer, whose arrival sets it working again.
   */
  blocked(node: number, on?: MessageId): void {
    this.working[node] = undefined;
    this.waitingOn[node] = on;
    const answer = on === undefined ? undefined : this.answerOf.get(on);
    if (answer !== undefined && this.messages.get(answer)?.reachedUs !== undefined) this.open(node, { after: [answer], plusUs: 0 });
    else this.advance();
  }

  /**
   * Whether every node's worker waits for an answer not yet on its way: what a finished job still
   * sends (each worker asking for more work after its last report) has been heard of.
   */
  settled(): boolean {
    for (let node = 0; node < this.nodes; node++) {
      const on = this.waitingOn[node];
      if (this.working[node] || (on !== undefined && this.answerOf.has(on))) return false;
    }
    return true;
  }

  /**
   * Nodes the master has not heard from for a while (a node cut off, a thread held by a long
   * call): the timeline stops waiting for them. What they send later is timed as it comes, and
   * the times are no longer the same run after run.
   */
  presumeGone(nodes: ReadonlySet<number>): void {
    this.gone = new Set(nodes);
    this.advance();
  }

  /** Times what it can now (the master's bound has moved). */
  poke(): void {
    this.advance();
  }

  /**
   * Times everything heard of, whatever may still come (the job is over, or the nodes are gone);
   * from now on, what it hears of is timed at once. A message a router has not said it passed on
   * is still waited for: it is on its way in real time, or its node is gone.
   */
  finish(): void {
    this.finishing = true;
    this.advance();
  }

  private readyAt(m: Message): void {
    let us = 0;
    for (const dep of m.ready.after) us = Math.max(us, this.messages.get(dep)!.reachedUs!);
    us += m.ready.plusUs;
    if (m.shuffle) this.shuffleFirstUs[m.src] = Math.min(this.shuffleFirstUs[m.src], us);
    this.push({ us, id: m.id, node: m.src, arrival: m.src === m.dst });
  }

  private push(event: HopEvent): void {
    const m = this.messages.get(event.id)!;
    m.at = { node: event.node, us: event.us };
    this.events.push(event);
  }

  /**
   * Earlier first; at one instant, arrivals before hops (an arrival takes no link, and may be all
   * that can be timed at the horizon), then by the senders' keys.
   */
  private before(a: HopEvent, b: HopEvent): boolean {
    if (a.us !== b.us) return a.us < b.us;
    if (a.arrival !== b.arrival) return a.arrival;
    const ka = this.messages.get(a.id)!.order;
    const kb = this.messages.get(b.id)!.order;
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) if (ka[i] !== kb[i]) return ka[i] < kb[i];
    return ka.length !== kb.length ? ka.length < kb.length : a.id < b.id;
  }

  /** The earliest a message not yet timed can still arrive (or stop). */
  private earliestReach(id: MessageId, seen: Set<MessageId>): number {
    const m = this.messages.get(id);
    if (!m) return this.nowUs;                    // not heard of yet: sent since, so not before now
    if (m.reachedUs !== undefined) return m.reachedUs;
    if (m.at) {
      // Once its router has let it go on, it gets no further this instant.
      const goesOn = m.at.node !== m.dst && this.decisions.get(`${id}:${m.at.node}`) === true;
      return m.at.us + (goesOn ? minHopUs(this.model, m.bytes) : 0);
    }
    if (seen.has(id)) return this.nowUs;
    seen.add(id);
    return this.earliestReady(m.ready, seen);
  }

  private earliestReady(ready: Ready, seen = new Set<MessageId>()): number {
    let us = this.nowUs;
    for (const dep of ready.after) us = Math.max(us, this.earliestReach(dep, seen));
    return us + ready.plusUs;
  }

  /** Before this instant, nothing still to come can take a link. */
  private horizonUs(): number {
    let us = Infinity;
    for (let node = 0; node < this.nodes; node++) {
      if (this.gone.has(node)) continue;
      const ready = this.working[node];
      if (ready) us = Math.min(us, this.earliestReady(ready));
      for (const at of this.owed[node].values()) us = Math.min(us, at);
    }
    for (const event of this.awaiting.values()) if (!this.gone.has(event.node)) us = Math.min(us, event.us);
    if (this.master) us = Math.min(us, this.master.owesFromUs());
    return us;
  }

  /**
   * Whether every request for the master that arrives before `us` (or at `us` from node 0's own
   * worker, which sends it no hops away) has arrived already: no node still works from earlier,
   * no message is on its way from earlier (an answer that wakes a worker, a request), no router
   * still has to say about one. Once the job is over (finish), all has.
   */
  masterMayServe(us: number): boolean {
    if (this.finishing) return true;
    for (let node = 0; node < this.nodes; node++) {
      const ready = this.working[node];
      if (!ready || this.gone.has(node)) continue;
      const from = this.earliestReady(ready);
      if (from < us || (node === 0 && from === us)) return false;
    }
    for (const event of this.events.values()) if (event.us < us || (event.us === us && event.arrival)) return false;
    for (const event of this.awaiting.values()) if (event.us < us && !this.gone.has(event.node)) return false;
    return true;
  }

  private advance(): void {
    let horizon = this.finishing ? Infinity : this.horizonUs();
    for (let top = this.events.peek() as HopEvent | undefined; top; top = this.events.peek() as HopEvent | undefined) {
      // An arrival takes no link: one at the horizon itself cannot be overtaken.
      if (top.arrival ? top.us > horizon : top.us >= horizon) break;
      this.events.pop();
      this.nowUs = Math.max(this.nowUs, top.us);
      if (this.hop(top) && !this.finishing) horizon = this.horizonUs();
    }
    this.master?.moved();
  }

  /** Times one hop; true if what bounds the rest may have moved. */
  private hop(event: HopEvent): boolean {
    const m = this.messages.get(event.id)!;
    if (event.arrival) {
      this.reach(m, event.us);
      if (m.toMaster) this.master?.arrived(m.id, event.us);
      else if (m.request && !this.answeredEarly.delete(m.id)) this.owed[m.dst].set(m.id, event.us);
      if (m.answers && this.waitingOn[m.dst] === m.answers.request) {
        this.working[m.dst] = { after: [m.id], plusUs: 0 };
        this.waitingOn[m.dst] = undefined;
      }
      if (m.shuffle) this.shuffleLastUs[m.dst] = Math.max(this.shuffleLastUs[m.dst], event.us);
      return true;
    }
    const key = `${m.id}:${event.node}`;
    const on = this.decisions.get(key);
    if (on === undefined) {
      this.awaiting.set(key, event);
      return true;
    }
    this.decisions.delete(key);
    if (!on) {
      // Refused here (a node cut off): it stops, and what follows it (the refusal's error) follows this.
      m.stoppedAt = event.node;
      this.answeredEarly.delete(m.id);
      this.reach(m, event.us);
      return true;
    }
    const { dimension, next } = ecubeStep(event.node, m.dst);
    const link = event.node * this.dimensions + dimension;
    let calendar = this.calendars.get(link);
    if (!calendar) this.calendars.set(link, (calendar = new LinkCalendar()));
    const times = crossLink(this.model, m.bytes, event.us, calendar, popcount(next ^ m.dst));
    const figures = this.links.get(link);
    if (figures) figures.busyUs += times.freeAtUs - times.startUs;
    else this.links.set(link, { busyUs: times.freeAtUs - times.startUs });
    this.push({ us: times.readyUs, id: m.id, node: next, arrival: next === m.dst });
    return false;
  }

  private reach(m: Message, us: number): void {
    m.reachedUs = us;
    m.at = undefined;
    const waiters = this.waiting.get(m.id);
    if (!waiters) return;
    this.waiting.delete(m.id);
    for (const w of waiters) if (--w.waitingFor === 0) this.readyAt(w);
  }
}
