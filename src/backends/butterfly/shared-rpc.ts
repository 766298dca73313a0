// Request/reply calls over a pair of shared-memory channels, many in flight at once: the
// butterfly backend's RPC. Handlers run concurrently (a call may be a long poll), so replies
// come back in the order the handlers finish, matched to their calls by id.
//
// Frames (all integers little-endian):
//   request: [callId u32][method name length u16][method name, UTF-8][payload]
//   reply:   [callId u32][ok u8: 1 ok, 0 error][payload if ok, else the error message in UTF-8]
import { MrError } from '../../errors.ts';
import type { ChannelReader, ChannelWriter } from './shared-channel.ts';

export type RpcHandler = (request: Uint8Array) => Promise<Uint8Array>;

/** A call that failed on the serving side (its handler threw, or no such method), or whose channel closed. */
export class RpcError extends MrError {}

const REQUEST_HEAD_BYTES = 6;
const REPLY_HEAD_BYTES = 5;
const MAX_METHOD_BYTES = 0xffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeRequest(callId: number, method: string, payload: Uint8Array): Uint8Array {
  const name = encoder.encode(method);
  if (name.length > MAX_METHOD_BYTES) throw new RangeError(`an RPC method name has at most ${MAX_METHOD_BYTES} bytes, got ${name.length}`);
  const frame = new Uint8Array(REQUEST_HEAD_BYTES + name.length + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, callId, true);
  view.setUint16(4, name.length, true);
  frame.set(name, REQUEST_HEAD_BYTES);
  frame.set(payload, REQUEST_HEAD_BYTES + name.length);
  return frame;
}

function decodeRequest(frame: Uint8Array): { callId: number; method: string; payload: Uint8Array } | undefined {
  if (frame.length < REQUEST_HEAD_BYTES) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nameEnd = REQUEST_HEAD_BYTES + view.getUint16(4, true);
  if (nameEnd > frame.length) return undefined;
  return { callId: view.getUint32(0, true), method: decoder.decode(frame.subarray(REQUEST_HEAD_BYTES, nameEnd)), payload: frame.subarray(nameEnd) };
}

function encodeReply(callId: number, ok: boolean, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(REPLY_HEAD_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, callId, true);
  frame[4] = ok ? 1 : 0;
  frame.set(payload, REPLY_HEAD_BYTES);
  return frame;
}

async function runHandler(handler: RpcHandler | undefined, method: string, payload: Uint8Array): Promise<{ ok: boolean; payload: Uint8Array }> {
  if (!handler) return { ok: false, payload: encoder.encode(`unknown RPC method '${method}'`) };
  try {
    return { ok: true, payload: await handler(payload) };
  } catch (error) {
    return { ok: false, payload: encoder.encode(error instanceof Error ? error.message || error.name : String(error)) };
  }
}

/**
 * Serves calls read from `requests`, replying on `replies`. When the request channel closes (the
 * client closed, and so no longer waits for any reply) or on stop(), `replies` is closed at once,
 * so calls still running get no reply (their callers see 'channel closed'); `done` resolves once
 * those handlers have finished. stop() cancels `requests`: that reader is not to be used again.
 * A request frame too short to carry a call id is dropped: no reply could reach its caller.
 */
export function serveRpc(requests: ChannelReader, replies: ChannelWriter, handlers: Record<string, RpcHandler>): { stop(): void; done: Promise<void> } {
  const running = new Set<Promise<unknown>>();

  const answer = (callId: number, method: string, payload: Uint8Array): void => {
    const handled = runHandler(Object.hasOwn(handlers, method) ? handlers[method] : undefined, method, payload);
    running.add(handled);
    void handled.then((reply) => {
      running.delete(handled);
      // Rejects once the replies are closed: nobody is left to tell.
      replies.send(encodeReply(callId, reply.ok, reply.payload)).catch(() => undefined);
    });
  };

  const serve = async (): Promise<void> => {
    try {
      for (let frame = await requests.receive(); frame; frame = await requests.receive()) {
        const request = decodeRequest(frame);
        if (request) answer(request.callId, request.method, request.payload);
      }
    } finally {
      replies.close();
      while (running.size > 0) await Promise.all(running);
    }
  };

  return { stop: () => requests.cancel(), done: serve() };
}

interface PendingCall {
  resolve(reply: Uint8Array): void;
  reject(error: Error): void;
}

export class RpcClient {
  private readonly pending = new Map<number, PendingCall>();
  private nextCallId = 1;
  private closed = false;   // by close(), or because the server closed the replies

  constructor(private readonly requests: ChannelWriter, private readonly replies: ChannelReader) {
    void this.readReplies();
  }

  call(method: string, request: Uint8Array): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new RpcError('channel closed'));
    const callId = this.nextCallId;
    this.nextCallId = (this.nextCallId + 1) >>> 0 || 1;
    let frame: Uint8Array;
    try {
      frame = encodeRequest(callId, method, request);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(callId, { resolve, reject });
      this.requests.send(frame).catch((error: unknown) => this.settle(callId, undefined, new RpcError(`could not send '${method}': ${String(error)}`)));
    });
  }

  /**
   * Closes the request channel; calls still waiting for a reply reject with RpcError('channel
   * closed'). Replies keep being read (and dropped) until the server, seeing the request channel
   * end, closes the reply channel: so neither side is left stalled on a full ring.
   */
  close(): void {
    if (this.closed) return;
    this.requests.close();
    this.failAll(new RpcError('channel closed'));
  }

  private async readReplies(): Promise<void> {
    try {
      for (let frame = await this.replies.receive(); frame; frame = await this.replies.receive()) {
        if (frame.length < REPLY_HEAD_BYTES) continue;
        const callId = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, true);
        const payload = frame.subarray(REPLY_HEAD_BYTES);
        if (frame[4] === 1) this.settle(callId, payload);
        else this.settle(callId, undefined, new RpcError(decoder.decode(payload)));
      }
      this.failAll(new RpcError('channel closed'));
    } catch (error) {
      this.failAll(new RpcError(`reply channel failed: ${String(error)}`));
    }
    this.requests.close();   // the server is gone: later calls reject at once (closed is set)
  }

  private settle(callId: number, reply: Uint8Array | undefined, error?: Error): void {
    const call = this.pending.get(callId);
    if (!call) return;   // already failed by close(), or a stray reply
    this.pending.delete(callId);
    if (error) call.reject(error);
    else call.resolve(reply!);
  }

  private failAll(error: Error): void {
    this.closed = true;
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}
