// One node's chaos layer (--chaos): it stands between the node's calls and the wire, below the
// deadline-and-retry policy, and loses, delays, doubles, reorders and throttles what passes, or
// refuses everything while the node is cut off. A message it loses fails the call the way a
// broken connection does, UNAVAILABLE at once, so the engine meets it on the very path a real
// loss takes (retried if the call is idempotent, else handled by its caller). Losing a message
// silently until the call's deadline would take the same path, only slower: tens of seconds per
// loss for calls with long deadlines.
//
// Every node evaluates only its own partition windows (calls it makes, in its client; calls it
// receives, in its server; see chaos-services.ts), so one clock rules each window: the node's,
// counted from the chaos epoch (the start of `mr run`, shared by every process it starts; a
// daemon's own start).
import { grpcJs } from '../grpc/grpc-js.ts';
import { codecOf } from '../proto-codec.ts';
import { TransportUnavailableError } from '../unavailable.ts';
import { emptyCounts, type ChaosCounts } from './chaos-counts.ts';
import { callFate, cutOffWindow, messageFate, type CallFate, type MessageFate } from './chaos-fate.ts';
import { RandomStreams } from './chaos-random.ts';
import { specOfNode, type ChaosPartition, type ChaosSpec } from './chaos-spec.ts';
import { burstBytesOf, fullBucket, takeBytes, type Bucket } from './token-bucket.ts';

/** What every process of a run shares: the spec (and its text, to hand on), the seed, the epoch. */
export interface ChaosSettings {
  text: string;
  spec: ChaosSpec;
  seed: number;
  epochMs: number;               // partition windows count from here (ms since 1970)
}

/** UNAVAILABLE, as gRPC reports a connection that failed: what every fault injected here looks like. */
export class ChaosFault extends TransportUnavailableError {
  override name = 'ChaosFault';
  readonly code = grpcJs().status.UNAVAILABLE; // retried by call-policy.ts as a real one would be
  constructor(readonly details: string) {
    super(details);
  }
}

type Service = 'Master' | 'Worker';

/** The codes that say an intruder's call was refused (read when one is, so that grpc-js loads only when needed). */
function notAdmitted(code: number): boolean {
  const { status } = grpcJs();
  return code === status.UNAUTHENTICATED || code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === status.CANCELLED;
}

/** A request held back waits for a later message to overtake it, but no longer than this. */
const REORDER_HOLD_MAX_MS = 200;

export class ChaosNode {
  readonly counts: ChaosCounts = emptyCounts();
  private readonly streams: RandomStreams;
  private bucket?: Bucket;
  private readonly held = new Set<() => void>();

  constructor(readonly settings: ChaosSettings, readonly name: string, private readonly clock: () => number = Date.now) {
    this.streams = new RandomStreams(settings.seed, name);
  }

  private ownSpec?: ChaosSpec;

  /** The spec as this node meets it (its own rates, if the spec gives it some). */
  private get spec(): ChaosSpec {
    return (this.ownSpec ??= specOfNode(this.settings.spec, this.name));
  }

  /** The partition window this node is in now, if any. */
  cutOff(): ChaosPartition | undefined {
    return cutOffWindow(this.spec, this.name, this.clock() - this.settings.epochMs);
  }

  /** Throws (and counts) when this node is cut off now; `what` says which call. */
  refuseIfCutOff(what: string): void {
    const window = this.cutOff();
    if (!window) return;
    this.counts.partitioned++;
    throw new ChaosFault(`chaos: ${this.name} is cut off from the network (${window.fromMs / 1000}s-${window.toMs / 1000}s): ${what}`);
  }

  /**
   * One unary call: its request may be refused, lost, held back, delayed, throttled or doubled; its
   * reply lost, delayed or throttled. Under intruder=P, `forge` (the same call without a valid
   * token, where the transport can make one) is also sent, as an intruder on the network would.
   * copy: how the network's duplicate of it goes out (default: as `send`).
   */
  async unary<T>(service: Service, method: string, request: object, send: () => Promise<T>, forge?: () => Promise<unknown>, copy: () => Promise<unknown> = send): Promise<T> {
    const fate = await this.dispatch(service, method, request);
    const reply = send();
    this.overtake();
    if (fate.request.duplicated) this.duplicate(fate.duplicateLagMs, copy);
    if (forge && this.spec.intruder && this.streams.stream(`${method}.intruder`)() < this.spec.intruder) this.intrude(forge);
    const value = await reply;
    await this.arrive(fate.reply, method, () => codecOf(service, method).encodeReply(value as object).length);
    return value;
  }

  /**
   * A server stream (fetchPartition, readFile). Its request meets what a unary request meets; its
   * first chunk carries the latency and every chunk pays for its bytes and may be lost (the stream
   * then breaks off, as when its connection fails). Chunks are never reordered within a stream:
   * the transport under gRPC (TCP) delivers a stream in order whatever the network does.
   */
  async *stream(service: Service, method: string, request: object, open: () => AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const fate = await this.dispatch(service, method, request);
    const chunks = open();
    this.overtake();
    if (fate.request.duplicated) this.duplicate(fate.duplicateLagMs, () => drain(open()));
    const chunkRandom = this.streams.stream(`${method}.chunk`);
    let chunkFate: MessageFate = fate.reply;
    for await (const chunk of chunks) {
      this.refuseIfCutOff(`${method} to ${this.name}, mid-stream`);
      await this.arrive(chunkFate, method, () => chunk.length);
      yield chunk;
      chunkFate = { ...messageFate(this.spec, chunkRandom), delayMs: 0 }; // the latency was paid by the first chunk
    }
  }

  /** A request on its way out: refused while cut off, held back to be overtaken, delayed, throttled, or lost; the rest of its call's fate. */
  private async dispatch(service: Service, method: string, request: object): Promise<CallFate> {
    this.refuseIfCutOff(`${method} from ${this.name}`);
    const fate = callFate(this.spec, this.streams.stream(method));
    this.counts.messages++;
    if (fate.request.reordered && await this.holdBack()) this.counts.reordered++;
    await this.pause(fate.request.delayMs, () => codecOf(service, method).encodeRequest(request).length);
    if (fate.request.lost) {
      this.counts.droppedRequests++;
      throw new ChaosFault(`chaos: the ${method} request from ${this.name} was lost`);
    }
    return fate;
  }

  /** A reply (or chunk) on its way in: lost, delayed, throttled. */
  private async arrive(fate: MessageFate, method: string, bytes: () => number): Promise<void> {
    this.counts.messages++;
    if (fate.lost) {
      this.counts.droppedReplies++;
      throw new ChaosFault(`chaos: the ${method} reply to ${this.name} was lost`);
    }
    await this.pause(fate.delayMs, bytes);
  }

  private async pause(delayMs: number, bytes: () => number): Promise<void> {
    if (delayMs > 0) this.counts.delayed++;
    const waitMs = delayMs + this.throttle(bytes);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** How long the node's link makes a message of these bytes wait (both directions share one bucket). */
  private throttle(bytes: () => number): number {
    const rate = this.spec.bandwidthBytesPerSec;
    if (rate === undefined) return 0;
    const burst = burstBytesOf(rate);
    const now = this.clock();
    const taken = takeBytes(this.bucket ?? fullBucket(burst, now), bytes(), now, rate, burst);
    this.bucket = taken.bucket;
    if (taken.waitMs > 0) {
      this.counts.throttled++;
      this.counts.throttledMs += taken.waitMs;
    }
    return taken.waitMs;
  }

  /** Waits until a later message leaves first (true), or gives up after a while (false: nothing overtook it). */
  private holdBack(): Promise<boolean> {
    return new Promise((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        this.held.delete(release);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.held.delete(release);
        resolve(false);
      }, REORDER_HOLD_MAX_MS);
      this.held.add(release);
    });
  }

  /** A message has just left: those held back go after it. */
  private overtake(): void {
    for (const release of [...this.held]) release();
  }

  /** The request goes out a second time; the caller sees only the first copy's reply. */
  private duplicate(lagMs: number, send: () => Promise<unknown>): void {
    this.counts.duplicated++;
    this.counts.messages++;
    setTimeout(() => void send().catch(() => {}), lagMs);
  }

  /** A forged copy goes out; the server must turn it away (UNAUTHENTICATED). */
  private intrude(forge: () => Promise<unknown>): void {
    this.counts.intruders++;
    forge().then(() => this.counts.intrudersAdmitted++, (error: unknown) => {
      // Turned away, or lost on the way (no one can tell whether it was heard): not admitted.
      const code = (error as { code?: number }).code;
      if (code === undefined || !notAdmitted(code)) this.counts.intrudersAdmitted++;
    });
  }

}

async function drain(chunks: AsyncIterable<Buffer>): Promise<void> {
  for await (const _chunk of chunks) { /* the duplicate's reply is dropped */ }
}
