// A node's end of the hypercube's messages: the calls it makes (a request, then a reply; or a
// request, then the chunks of a stream and its end) and the calls it serves. Every message leaves
// stamped with the node's simulated time and, on arrival, moves that time forward: the clock is
// driven by the traffic as it flows (router.ts adds what each link takes).
import { AuthError, MrError, TransportUnavailableError, UsageError } from '../../errors.ts';
import { FLAG, Kind, encodePacket, type Packet } from './packet.ts';

/** When a server's answers leave, if not at their requests' arrival. */
export interface AnswerTimes {
  /** A request arrives, before it is served. */
  taken(request: Packet): void;
  /** When the answer to it (reply: its payload; none: an error) leaves. */
  answerAt(request: Packet, reply: Uint8Array | undefined): number;
}

/** A node's simulated time, kept where the report reads it. */
export interface SimClock {
  now(): number;
  /** The time moves to atUs if that is later. */
  reach(atUs: number): void;
}

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
}

/** Waits until waiter.wake() is called (true), or ms pass (false). */
async function wokenWithin(waiter: { wake?: () => void }, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const woken = await new Promise<boolean>((resolve) => {
    waiter.wake = () => resolve(true);
    timer = setTimeout(() => resolve(false), ms);
  });
  clearTimeout(timer);
  waiter.wake = undefined;
  return woken;
}

/** A stream's chunks as they arrive, for the caller's `for await`. */
class Inbox {
  private readonly chunks: Uint8Array[] = [];
  private done = false;
  private error?: Error;
  wake?: () => void;   // set while read() waits (wokenWithin)

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.wake?.();
  }

  end(error?: Error): void {
    this.done = true;
    this.error = error;
    this.wake?.();
  }

  /** The chunks until the end; a silence of idleMs (a chunk lost on the way, a node gone) is an unavailable node. */
  async *read(idleMs: number, what: string): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.chunks.length > 0) {
        yield this.chunks.shift()!;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      if (!(await wokenWithin(this, idleMs))) throw new TransportUnavailableError(`hypercube: ${what} heard nothing for ${idleMs / 1000} s`);
    }
  }
}

export class Endpoint {
  private nextCallId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly inboxes = new Map<number, Inbox>();
  private readonly unary = new Map<string, UnaryHandler>();
  private readonly streams = new Map<string, StreamHandler>();
  private readonly serving = new Map<string, ServedStream>();

  /**
   * A request served neither moves the node's clock nor waits for it: a worker serves fetches beside
   * its own work, and the answer leaves at the request's arrival. answers: when the answers leave
   * if not so (the master's depend on what it had learnt: master-times.ts).
   */
  constructor(
    readonly node: number, private readonly send: (bytes: Uint8Array) => void, readonly clock: SimClock, private readonly answers?: AnswerTimes,
  ) {}

  serve(unary: Record<string, UnaryHandler>, streams: Record<string, StreamHandler> = {}): void {
    for (const [method, handler] of Object.entries(unary)) this.unary.set(method, handler);
    for (const [method, handler] of Object.entries(streams)) this.streams.set(method, handler);
  }

  unserve(): void {
    this.unary.clear();
    this.streams.clear();
    for (const stream of this.serving.values()) stream.controller.abort();
  }

  /** A request to `dst`, answered once; no answer by the deadline is an unavailable node. */
  call(dst: number, method: string, payload: Uint8Array, flags: number, deadline?: Date): Promise<Uint8Array> {
    const callId = this.callId();
    return new Promise<Uint8Array>((resolve, reject) => {
      const waitMs = deadline ? deadline.getTime() - Date.now() : 0;
      const timer = deadline && deadline.getTime() < 8.64e15 ? setTimeout(() => {
        this.pending.delete(callId);
        reject(new TransportUnavailableError(`hypercube: no reply from node ${dst} to ${method} within ${Math.max(0, waitMs)} ms`));
      }, Math.max(0, waitMs)) : undefined;
      this.pending.set(callId, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.emit(Kind.Request, flags, dst, callId, method, payload);
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
      this.emit(Kind.Request, flags, dst, callId, method, payload);
      for await (const chunk of inbox.read(STREAM_IDLE_MS, `${method} from node ${dst}`)) {
        yield chunk;
        if (++taken % CREDIT_EVERY === 0) this.emit(Kind.Credit, flags, dst, callId, method, u32(taken));
      }
      ended = true;
    } finally {
      this.inboxes.delete(callId);
      if (!ended) this.emit(Kind.Cancel, flags, dst, callId, method, new Uint8Array(0));
    }
  }

  /** A message delivered to this node. */
  receive(packet: Packet): void {
    // What answers this node's own calls moves its clock; what belongs to a call it serves (the
    // request, a credit, a cancel) does not: a node serves beside its own work.
    if (packet.kind !== Kind.Request && packet.kind !== Kind.Cancel && packet.kind !== Kind.Credit) this.clock.reach(packet.timeUs);
    switch (packet.kind) {
      case Kind.Request:
        this.answer(packet);
        return;
      case Kind.Reply:
        this.settle(packet.callId, packet.payload);
        return;
      case Kind.Error: {
        const error = errorOf(packet.payload);
        if (this.pending.has(packet.callId)) this.settle(packet.callId, undefined, error);
        else this.inboxes.get(packet.callId)?.end(error);
        return;
      }
      case Kind.Chunk:
        this.inboxes.get(packet.callId)?.push(packet.payload);
        return;
      case Kind.End:
        this.inboxes.get(packet.callId)?.end();
        return;
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

  private emit(kind: Kind, flags: number, dst: number, callId: number, method: string, payload: Uint8Array, timeUs = this.clock.now()): void {
    this.send(encodePacket({ kind, flags, src: this.node, dst, callId, timeUs, method: kind === Kind.Request ? method : '', payload }));
  }

  /** When the answer to a request leaves: see the constructor. */
  private answerTime(request: Packet, reply?: Uint8Array): number {
    return this.answers ? this.answers.answerAt(request, reply) : request.timeUs;
  }

  private settle(callId: number, reply: Uint8Array | undefined, error?: Error): void {
    const call = this.pending.get(callId);
    if (!call) return;   // too late: its caller gave up at the deadline
    this.pending.delete(callId);
    if (error) call.reject(error);
    else call.resolve(reply!);
  }

  private answer(request: Packet): void {
    const replyFlags = request.flags & FLAG.shuffle;
    const stream = this.streams.get(request.method);
    if (stream) {
      void this.serveStream(request, stream, replyFlags);
      return;
    }
    const handler = this.unary.get(request.method);
    this.answers?.taken(request);
    const reply = handler ? handler(request.payload) : Promise.reject(new TransportUnavailableError(`node ${this.node} does not serve ${request.method}`));
    reply.then(
      (payload) => this.emit(Kind.Reply, replyFlags, request.src, request.callId, '', payload, this.answerTime(request, payload)),
      (error: unknown) => this.emit(Kind.Error, replyFlags, request.src, request.callId, '', encodeError(error), this.answerTime(request)),
    );
  }

  private async serveStream(request: Packet, handler: StreamHandler, flags: number): Promise<void> {
    const key = `${request.src}:${request.callId}`;
    const controller = new AbortController();
    const served: ServedStream = { controller, taken: 0 };
    this.serving.set(key, served);
    controller.signal.addEventListener('abort', () => served.wake?.());
    let sent = 0;
    try {
      for await (const chunk of handler(request.payload)) {
        while (sent - served.taken >= WINDOW && !controller.signal.aborted) {
          if (!(await wokenWithin(served, STREAM_IDLE_MS))) controller.abort();   // the caller is gone: no credit came
        }
        if (controller.signal.aborted) return;
        sent++;
        this.emit(Kind.Chunk, flags, request.src, request.callId, '', chunk, this.answerTime(request));
      }
      this.emit(Kind.End, flags, request.src, request.callId, '', new Uint8Array(0), this.answerTime(request));
    } catch (error) {
      if (!controller.signal.aborted) this.emit(Kind.Error, flags, request.src, request.callId, '', encodeError(error), this.answerTime(request));
    } finally {
      this.serving.delete(key);
    }
  }
}

// Errors cross the links as their kind and message, and are made again on the caller's side: a
// usage error stays a usage error, an unavailable node stays retryable.
const KINDS = [['unavailable', TransportUnavailableError], ['auth', AuthError], ['usage', UsageError], ['mr', MrError]] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeError(error: unknown): Uint8Array {
  const kind = KINDS.find(([, type]) => error instanceof type)?.[0] ?? 'internal';
  return encoder.encode(JSON.stringify({ kind, message: error instanceof Error ? error.message : String(error) }));
}

function errorOf(payload: Uint8Array): Error {
  let parsed: { kind?: string; message?: string } = {};
  try {
    parsed = JSON.parse(decoder.decode(payload)) as typeof parsed;
  } catch {
    // a garbled error is still an error
  }
  const type = KINDS.find(([kind]) => kind === parsed.kind)?.[1];
  const message = parsed.message ?? 'a call failed on the far node';
  return type ? new type(message) : new Error(message);
}
