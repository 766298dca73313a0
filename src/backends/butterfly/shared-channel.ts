// A one-way, single-producer/single-consumer channel of byte frames between two threads, in a
// SharedArrayBuffer ring synchronised only with Atomics: the butterfly backend's wire.
//
// Memory: an Int32 header of HEADER_WORDS words, then the ring of `capacity` bytes.
// Positions run over [0, 2*capacity) so that a full ring (used = capacity) and an empty one
// (used = 0) differ; the byte at position p lies at ring[p % capacity]. The writer alone moves
// HEAD, the reader alone moves TAIL. A frame is [length u32 LE][bytes], streamed through the ring
// piece by piece as the reader frees space, so frames of any size pass through a ring of any size.
import { MrError } from '../../errors.ts';
import { waitWhileEqual } from './atomic-wait.ts';

const HEAD = 0;            // writer's position: bytes up to here are published
const TAIL = 1;            // reader's position: bytes up to here are consumed
const CLOSED = 2;          // 1 once the writer closed (after its last frame was published)
const WRITER_EVENTS = 3;   // bumped after every HEAD move and on close: what a reader waits on
const CAPACITY = 4;        // the ring's size, to recognise a channel memory and check it
const HEADER_WORDS = 8;    // 32 bytes, keeps the ring aligned
const HEADER_BYTES = HEADER_WORDS * 4;
const LENGTH_BYTES = 4;

export const MIN_CHANNEL_BYTES = 16;
export const MAX_CHANNEL_BYTES = 1 << 30;   // 2*capacity must stay a positive Int32
const MAX_FRAME_BYTES = 0xffff_ffff;

/** A send on a closed channel, or a channel whose writer stopped in the middle of a frame. */
export class ChannelClosedError extends MrError {}

/** Allocates the shared memory of one channel; hand it to a ChannelWriter and a ChannelReader. */
export function channelMemory(capacityBytes = 1 << 20): SharedArrayBuffer {
  if (!Number.isInteger(capacityBytes) || capacityBytes < MIN_CHANNEL_BYTES || capacityBytes > MAX_CHANNEL_BYTES) {
    throw new RangeError(`a channel's capacity must be an integer from ${MIN_CHANNEL_BYTES} to ${MAX_CHANNEL_BYTES} bytes, got ${capacityBytes}`);
  }
  const memory = new SharedArrayBuffer(HEADER_BYTES + capacityBytes);
  new Int32Array(memory, 0, HEADER_WORDS)[CAPACITY] = capacityBytes;
  return memory;
}

/** The header words and the ring of a channel memory made by channelMemory(). */
class Ring {
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly capacity: number;

  constructor(memory: SharedArrayBuffer) {
    if (!(memory instanceof SharedArrayBuffer) || memory.byteLength < HEADER_BYTES + MIN_CHANNEL_BYTES) {
      throw new TypeError('a channel needs the SharedArrayBuffer made by channelMemory()');
    }
    this.words = new Int32Array(memory, 0, HEADER_WORDS);
    this.capacity = Atomics.load(this.words, CAPACITY);
    if (this.capacity !== memory.byteLength - HEADER_BYTES) {
      throw new TypeError('this SharedArrayBuffer was not made by channelMemory(): its capacity word does not match its size');
    }
    this.bytes = new Uint8Array(memory, HEADER_BYTES, this.capacity);
  }

  used(head: number, tail: number): number {
    return (head - tail + 2 * this.capacity) % (2 * this.capacity);
  }

  advance(position: number, count: number): number {
    return (position + count) % (2 * this.capacity);
  }

  /** Copies source into the ring from position on, wrapping at the end. */
  copyIn(position: number, source: Uint8Array): void {
    const at = position % this.capacity;
    const first = Math.min(source.length, this.capacity - at);
    this.bytes.set(source.subarray(0, first), at);
    if (first < source.length) this.bytes.set(source.subarray(first), 0);
  }

  /** Fills target from the ring from position on, wrapping at the end. */
  copyOut(position: number, target: Uint8Array): void {
    const at = position % this.capacity;
    const first = Math.min(target.length, this.capacity - at);
    target.set(this.bytes.subarray(at, at + first));
    if (first < target.length) target.set(this.bytes.subarray(0, target.length - first), first);
  }
}

export class ChannelWriter {
  private readonly ring: Ring;
  private queue: Promise<void> = Promise.resolve();   // sends run one after another, never interleaved
  private closing = false;

  constructor(memory: SharedArrayBuffer) {
    this.ring = new Ring(memory);
  }

  /**
   * Queues one frame; resolves once its last byte is in the ring (not when it is read). The frame
   * is copied as space frees up, so it must not be modified until the promise resolves.
   */
  send(frame: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new ChannelClosedError('cannot send on a closed channel'));
    if (frame.length > MAX_FRAME_BYTES) return Promise.reject(new RangeError(`a frame holds at most ${MAX_FRAME_BYTES} bytes, got ${frame.length}`));
    const length = new Uint8Array(LENGTH_BYTES);
    new DataView(length.buffer).setUint32(0, frame.length, true);
    const sent = this.queue.then(() => this.writeAll(frame.length > 0 ? [length, frame] : [length]));
    this.queue = sent.catch(() => undefined);
    return sent;
  }

  /** Ends the channel once the frames already queued are in the ring; later sends reject. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.queue = this.queue.then(() => {
      Atomics.store(this.ring.words, CLOSED, 1);
      this.signal();
    });
  }

  private async writeAll(parts: Uint8Array[]): Promise<void> {
    const { ring } = this;
    let part = 0;
    let offset = 0;
    while (part < parts.length) {
      const tail = Atomics.load(ring.words, TAIL);
      let head = Atomics.load(ring.words, HEAD);
      let free = ring.capacity - ring.used(head, tail);
      if (free === 0) {
        await waitWhileEqual(ring.words, TAIL, tail);   // the reader moves TAIL and notifies it
        continue;
      }
      while (free > 0 && part < parts.length) {
        const count = Math.min(free, parts[part].length - offset);
        ring.copyIn(head, parts[part].subarray(offset, offset + count));
        head = ring.advance(head, count);
        free -= count;
        offset += count;
        if (offset === parts[part].length) {
          part++;
          offset = 0;
        }
      }
      Atomics.store(ring.words, HEAD, head);   // publishes the bytes copied above
      this.signal();
    }
  }

  private signal(): void {
    Atomics.add(this.ring.words, WRITER_EVENTS, 1);
    Atomics.notify(this.ring.words, WRITER_EVENTS);
  }
}

export class ChannelReader {
  private readonly ring: Ring;
  private queue: Promise<unknown> = Promise.resolve();   // receives run one after another
  private cancelled = false;

  constructor(memory: SharedArrayBuffer) {
    this.ring = new Ring(memory);
  }

  /** The next whole frame (a fresh copy), or undefined once the writer closed and all was read. */
  receive(): Promise<Uint8Array | undefined> {
    const next = this.queue.then(() => this.readFrame());
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Stops reading: a pending receive() and all later ones resolve undefined. For a reader that
   * goes away before the writer closes; the writer is not told, so its sends may stall.
   */
  cancel(): void {
    this.cancelled = true;
    Atomics.notify(this.ring.words, WRITER_EVENTS);   // wakes a receive() waiting in this thread
  }

  private async readFrame(): Promise<Uint8Array | undefined> {
    const length = new Uint8Array(LENGTH_BYTES);
    const lengthRead = await this.readInto(length);
    if (lengthRead === 0 || this.cancelled) return undefined;
    if (lengthRead < LENGTH_BYTES) throw new ChannelClosedError('the channel ended in the middle of a frame header');
    const frame = new Uint8Array(new DataView(length.buffer).getUint32(0, true));
    const frameRead = await this.readInto(frame);
    if (this.cancelled) return undefined;
    if (frameRead < frame.length) throw new ChannelClosedError(`the channel ended after ${frameRead} of a frame's ${frame.length} bytes`);
    return frame;
  }

  /** Fills target; returns how many bytes it got, fewer only if the channel ended or was cancelled. */
  private async readInto(target: Uint8Array): Promise<number> {
    const { ring } = this;
    let filled = 0;
    while (filled < target.length && !this.cancelled) {
      // Order matters: events first (so a change after this line ends the wait at once), then
      // CLOSED before HEAD (the writer closes only after its last HEAD move, so seeing CLOSED
      // guarantees the HEAD read next is final).
      const events = Atomics.load(ring.words, WRITER_EVENTS);
      const closed = Atomics.load(ring.words, CLOSED) === 1;
      const head = Atomics.load(ring.words, HEAD);
      const tail = Atomics.load(ring.words, TAIL);
      const available = ring.used(head, tail);
      if (available === 0) {
        if (closed) break;
        await waitWhileEqual(ring.words, WRITER_EVENTS, events);
        continue;
      }
      const count = Math.min(available, target.length - filled);
      ring.copyOut(tail, target.subarray(filled, filled + count));
      filled += count;
      Atomics.store(ring.words, TAIL, ring.advance(tail, count));   // frees the space copied out
      Atomics.notify(ring.words, TAIL);
    }
    return filled;
  }
}
