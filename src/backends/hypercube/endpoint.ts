// A node's end of the hypercube's messages: the calls it makes (a request, then a reply; or a
// request, then the chunks of a stream and its end) and the calls it serves. Every message it
// sends goes with what it waits for on the simulated clock (its Timing: the arrivals it follows),
// which the timeline (timeline.ts) turns into times: a worker's calls follow the master's last
// answer to it and what its own calls brought since; an answer follows its request; a credit the
// chunk it grants after. Heartbeats and cancels stay outside the clock (they follow real time).
import { TransportUnavailableError } from '../../errors.ts';
import { encodeError, errorOf } from './call-errors.ts';
import { FLAG, Kind, encodePacket, type Packet } from './packet.ts';
import { Inbox, wokenWithin } from './stream-inbox.ts';
import { messageId, type MessageId, type Ready, type SentMessage } from './timeline.ts';

/**
 * What a message waits for on the simulated clock; none: it is outside the clock. measuredBytes:
 * how much of it is the host's measurements (process memory, CPU time, task durations), which the
 * links carry but the clock leaves out: they differ run to run, the simulated machine's work does not.
 */
export type Timing = Pick<SentMessage, 'ready' | 'order' | 'request' | 'answers'> & { measuredBytes?: number };

/** Where an endpoint's messages go, and what it tells the timeline of its node's worker. */
export interface EndpointLink {
  send(bytes: Uint8Array, timing?: Timing): void;
  /** The worker waits for the answer to this request of its own (a call to the master). */
  blocked?(on: MessageId): void;
  /** The worker works on after `ready` (a call ended with no answer it heard). */
  open?(ready: Ready): void;
  /** A request this node served will have no more answers (a stream stopped early). */
  answered?(request: MessageId): void;
}

/** What else a server's answers follow, beyond their request (the master's: master-times.ts). */
export interface AnswerTimes {
  /** A request arrives, before it is served. */
  taken(request: Packet, id: MessageId): void;
  /** What the answer to it (reply: its payload; none: an error) follows besides the request. */
  answerAfter(request: Packet, reply: Uint8Array | undefined): MessageId[];
  /** When a timed request is served: serve() serves it (its answer sent when it settles). Absent: at once. */
  admit?(request: Packet, id: MessageId, serve: () => Promise<void>): void;
}

/** How a call goes (all optional). */
export interface CallOptions {
  /** No answer by then: an unavailable node. */
  deadline?: Date;
  /** The computation the call follows (a report's tasks), us. */
  plusUs?: number;
  /** See Timing. */
  measuredBytes?: number;
  /** Sent beside a call of the same request that is still waiting (a duplicate): the worker does not wait for it. */
  alongside?: boolean;
}

/** A credit's place among a stream's messages from its caller, after its request's answers. */
const CREDIT_ORDER = 1_000_000;

/** A stream silent this long is broken (its caller retries it, as one broken off by a network). */
const STREAM_IDLE_MS = 30_000;
/**
 * Flow control of a stream: the server sends at most WINDOW chunks its caller has not taken yet;
 * the caller grants more with a credit message every CREDIT_EVERY chunks it takes. So a reducer
 * that fetches from many nodes holds a bounded number of chunks of each, as over TCP.
 */
const WINDOW = 8;
const CREDIT_EVERY = 4;

export type UnaryHandler = (payload: Uint8Array) => Promise<Uint8Array>;
export type StreamHandler = (payload: Uint8Array) => AsyncIterable<Uint8Array>;

/** A stream this node serves: how many chunks its caller has taken, and how to wake the server waiting for credit. */
interface ServedStream {
  controller: AbortController;
  taken: number;
  wake?: () => void;
}

function u32(n: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n >>> 0, true);
  return bytes;
}

interface PendingCall {
  resolve(payload: Uint8Array): void;
  reject(error: Error): void;
  /** A timed call to the master: the worker waits for it. */
  blocking: boolean;
}

export class Endpoint {
  private nextCallId = 1;
  private nextSeq: number;
  /** Its timed requests so far: each one's place among them orders ties on the clock. */
  private requests = 0;
  private readonly pending = new Map<number, PendingCall>();
  private readonly inboxes = new Map<number, Inbox>();
  private readonly unary = new Map<string, UnaryHandler>();
  private readonly streams = new Map<string, StreamHandler>();
  private readonly serving = new Map<string, ServedStream>();
  /** The master's last answer to the worker here: what its work follows ... */
  private workingAfter?: MessageId;
  /** ... and the answers its own calls brought since (a reduce's chunks): what its next report follows. */
  private since: MessageId[] = [];

  /**
   * A request served does not hold up the node's own work: a worker serves fetches beside it, and
   * the answer follows the request alone. answers: what else they follow (the master's depend on
   * what it had learnt: master-times.ts). firstSeq: where its messages' numbers start (two
   * endpoints on one node, the master's and the worker's, number theirs apart).
   */
  constructor(readonly node: number, private readonly link: EndpointLink, private readonly answers?: AnswerTimes, firstSeq = 1) {
    this.nextSeq = firstSeq;
  }

  serve(unary: Record<string, UnaryHandler>, streams: Record<string, StreamHandler> = {}): void {
    for (const [method, handler] of Object.entries(unary)) this.unary.set(method, handler);
    for (const [method, handler] of Object.entries(streams)) this.streams.set(method, handler);
  }

  unserve(): void {
    this.unary.clear();
    this.streams.clear();
    for (const stream of this.serving.values()) stream.controller.abort();
  }

  /**
   * A request to `dst`, answered once; no answer by the deadline is an unavailable node. A timed
   * call to the master is the worker's: it waits for it, and its work goes on after the answer.
   */
  call(dst: number, method: string, payload: Uint8Array, flags: number, options: CallOptions = {}): Promise<Uint8Array> {
    const { deadline, plusUs = 0, measuredBytes = 0 } = options;
    const callId = this.callId();
    const timed = (flags & FLAG.untimed) === 0;
    const blocking = timed && (flags & FLAG.toMaster) !== 0 && !options.alongside;
    return new Promise<Uint8Array>((resolve, reject) => {
      const waitMs = deadline ? deadline.getTime() - Date.now() : 0;
      let id: MessageId | undefined;
      const timer = deadline && deadline.getTime() < 8.64e15 ? setTimeout(() => {
        this.pending.delete(callId);
        if (blocking && id !== undefined) this.goOnAfter(id);   // the worker goes on without an answer
        reject(new TransportUnavailableError(`hypercube: no reply from node ${dst} to ${method} within ${Math.max(0, waitMs)} ms`));
      }, Math.max(0, waitMs)) : undefined;
      this.pending.set(callId, {
        blocking,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      id = this.request(flags, dst, callId, method, payload, timed ? this.workReady(plusUs) : undefined, measuredBytes);
      if (blocking) {
        this.link.blocked?.(id);
        this.since = [];
      }
    });
  }

  /** A request to `dst` answered by a stream; leaving the loop early tells the server to stop. */
  async *stream(dst: number, method: string, payload: Uint8Array, flags: number): AsyncGenerator<Uint8Array> {
    const callId = this.callId();
    const inbox = new Inbox();
    this.inboxes.set(callId, inbox);
    let ended = false;
    let taken = 0;
    try {
      // A fetch follows the task it is for (the master's answer), whenever it really starts.
      const ready = { after: this.workingAfter === undefined ? [] : [this.workingAfter], plusUs: 0 };
      this.request(flags, dst, callId, method, payload, ready);
      const order = this.requests;
      for await (const chunk of inbox.read(STREAM_IDLE_MS, `${method} from node ${dst}`)) {
        yield chunk.payload;
        if (++taken % CREDIT_EVERY === 0) {
          this.emit(Kind.Credit, flags, dst, callId, '', u32(taken), 0, { ready: { after: [chunk.id], plusUs: 0 }, order: [this.node, order, CREDIT_ORDER + taken], request: false });
        }
      }
      ended = true;
    } finally {
      this.inboxes.delete(callId);
      if (!ended) this.emit(Kind.Cancel, flags | FLAG.untimed, dst, callId, '', new Uint8Array(0), 0);
    }
  }

  /** A message delivered to this node. */
  receive(packet: Packet): void {
    const id = messageId(packet.src, packet.seq);
    const timed = (packet.flags & FLAG.untimed) === 0;
    switch (packet.kind) {
      case Kind.Request:
        this.answer(packet, id);
        return;
      case Kind.Reply:
        this.settle(packet.callId, packet.payload, undefined, timed ? id : undefined);
        return;
      case Kind.Error: {
        const error = errorOf(packet.payload);
        if (this.pending.has(packet.callId)) this.settle(packet.callId, undefined, error, timed ? id : undefined);
        else if (this.inboxes.has(packet.callId)) {
          if (timed) this.since.push(id);
          this.inboxes.get(packet.callId)!.end(error);
        }
        return;
      }
      case Kind.Chunk: {
        const inbox = this.inboxes.get(packet.callId);
        if (!inbox) return;
        if (timed) this.since.push(id);
        inbox.push({ payload: packet.payload, id });
        return;
      }
      case Kind.End: {
        const inbox = this.inboxes.get(packet.callId);
        if (!inbox) return;
        if (timed) this.since.push(id);
        inbox.end();
        return;
      }
      case Kind.Cancel:
        this.serving.get(`${packet.src}:${packet.callId}`)?.controller.abort();
        return;
      case Kind.Credit: {
        const stream = this.serving.get(`${packet.src}:${packet.callId}`);
        if (!stream || packet.payload.length < 4) return;
        stream.taken = Math.max(stream.taken, new DataView(packet.payload.buffer, packet.payload.byteOffset, 4).getUint32(0, true));
        stream.wake?.();
      }
    }
  }

  private callId(): number {
    const id = this.nextCallId;
    this.nextCallId = (this.nextCallId + 1) >>> 0 || 1;
    return id;
  }

  /** What the worker's next call follows: the master's last answer, what came since, and its computation. */
  private workReady(plusUs: number): Ready {
    return { after: this.workingAfter === undefined ? [...this.since] : [this.workingAfter, ...this.since], plusUs };
  }

  private goOnAfter(id: MessageId): void {
    this.workingAfter = id;
    this.since = [];
    this.link.open?.({ after: [id], plusUs: 0 });
  }

  /** Sends a request (timed: numbered among this node's requests); returns its name on the timeline. */
  private request(flags: number, dst: number, callId: number, method: string, payload: Uint8Array, ready: Ready | undefined, measuredBytes = 0): MessageId {
    if (!ready) return this.emit(Kind.Request, flags | FLAG.untimed, dst, callId, method, payload, 0);
    const order = ++this.requests;
    return this.emit(Kind.Request, flags, dst, callId, method, payload, order, { ready, order: [this.node, order], request: true, ...(measuredBytes > 0 ? { measuredBytes } : {}) });
  }

  private emit(kind: Kind, flags: number, dst: number, callId: number, method: string, payload: Uint8Array, order: number, timing?: Timing): MessageId {
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) >>> 0;
    this.link.send(encodePacket({ kind, flags, src: this.node, dst, callId, seq, order, method: kind === Kind.Request ? method : '', payload }), timing);
    return messageId(this.node, seq);
  }

  private settle(callId: number, reply: Uint8Array | undefined, error: Error | undefined, answerId: MessageId | undefined): void {
    const call = this.pending.get(callId);
    if (!call) return;   // too late: its caller gave up at the deadline
    this.pending.delete(callId);
    if (answerId !== undefined && call.blocking) {
      this.workingAfter = answerId;
      this.since = [];
    } else if (answerId !== undefined) this.since.push(answerId);
    if (error) call.reject(error);
    else call.resolve(reply!);
  }

  /** How an answer to `request` (its index-th) goes on the clock: after the request, and what else the server says. */
  private answerTiming(request: Packet, id: MessageId, index: number, last: boolean, reply?: Uint8Array): Timing | undefined {
    if ((request.flags & FLAG.untimed) !== 0) return undefined;
    const more = this.answers ? this.answers.answerAfter(request, reply) : [];
    return { ready: { after: [id, ...more], plusUs: 0 }, order: [request.src, request.order, index], request: false, answers: { request: id, last } };
  }

  private answer(request: Packet, id: MessageId): void {
    const replyFlags = request.flags & (FLAG.shuffle | FLAG.untimed);
    const stream = this.streams.get(request.method);
    if (stream) {
      void this.serveStream(request, id, stream, replyFlags);
      return;
    }
    const handler = this.unary.get(request.method);
    const timed = (request.flags & FLAG.untimed) === 0;
    const serve = (): Promise<void> => {
      if (timed) this.answers?.taken(request, id);
      const reply = handler ? handler(request.payload) : Promise.reject(new TransportUnavailableError(`node ${this.node} does not serve ${request.method}`));
      return reply.then(
        (payload) => void this.emit(Kind.Reply, replyFlags, request.src, request.callId, '', payload, 1, this.answerTiming(request, id, 1, true, payload)),
        (error: unknown) => void this.emit(Kind.Error, replyFlags, request.src, request.callId, '', encodeError(error), 1, this.answerTiming(request, id, 1, true)),
      );
    };
    if (timed && this.answers?.admit) this.answers.admit(request, id, serve);
    else void serve();
  }

  private async serveStream(request: Packet, id: MessageId, handler: StreamHandler, flags: number): Promise<void> {
    const key = `${request.src}:${request.callId}`;
    const controller = new AbortController();
    const served: ServedStream = { controller, taken: 0 };
    this.serving.set(key, served);
    controller.signal.addEventListener('abort', () => served.wake?.());
    let sent = 0;
    let done = false;
    try {
      for await (const chunk of handler(request.payload)) {
        while (sent - served.taken >= WINDOW && !controller.signal.aborted) {
          if (!(await wokenWithin(served, STREAM_IDLE_MS))) controller.abort();   // the caller is gone: no credit came
        }
        if (controller.signal.aborted) return;
        sent++;
        this.emit(Kind.Chunk, flags, request.src, request.callId, '', chunk, sent, this.answerTiming(request, id, sent, false));
      }
      done = true;
      this.emit(Kind.End, flags, request.src, request.callId, '', new Uint8Array(0), sent + 1, this.answerTiming(request, id, sent + 1, true));
    } catch (error) {
      if (!controller.signal.aborted) {
        done = true;
        this.emit(Kind.Error, flags, request.src, request.callId, '', encodeError(error), sent + 1, this.answerTiming(request, id, sent + 1, true));
      }
    } finally {
      this.serving.delete(key);
      if (!done && (request.flags & FLAG.untimed) === 0) this.link.answered?.(id);
    }
  }
}
