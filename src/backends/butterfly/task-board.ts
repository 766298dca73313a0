// The butterfly's task board: the hand-out of tasks, the completion reports and the map/reduce
// barrier as words in shared memory, in memory module 0, changed with Atomics, instead of
// messages on the rings. Each touch of a board word by a processor is charged on the switch as
// an access to module 0, so module 0 is the machine's hot spot, as a shared work queue in one
// module was on the real Butterfly.
//
// Decisions:
// - Where: a SharedArrayBuffer of its own, allocated with the heap and charged as module 0
//   (FabricPort.accessBoard), not a region of module 0's part of the heap: a module may be as
//   small as 4 KiB (--module-mib), less than the board of even a few processors needs, and
//   module 0 keeps all of its bytes for map outputs. Where the bytes lie changes no figure.
// - Layout (Int32 words): the doorbell word; the barrier's table (stage-barrier.ts); then per
//   processor p two slots, its task slot (requestTask) and its report slot (reportAttempt,
//   reportAttempts). A slot is [state, method, length, unused] and SLOT_BYTES of data: the
//   encoded request, which the master overwrites with the encoded reply.
// - A slot's states: EMPTY/TAKEN (the processor's to fill) -> REQUESTED (the processor, with
//   compareExchange, after writing the request; then it adds 1 to the doorbell and notifies it)
//   -> SERVING (the master's keeper, with compareExchange, so that a held long poll is taken
//   once) -> POSTED, FAILED (the handler threw: the message) or OVERSIZE (the reply did not fit:
//   its length only) -> TAKEN (the processor, with compareExchange). CLOSED: the master stopped.
// - Too large: a request that does not fit goes over the ring; a reply that does not fit is
//   marked OVERSIZE and the processor asks the same request again over the ring, where the
//   master's memo of request ids answers it with the same reply (never a second task).
// - One call at a time per slot: a call that finds its slot busy (a duplicate, or a call whose
//   deadline passed while the master still held it) goes over the ring; a reply nobody waits
//   for any more is taken and dropped by the slot's next call.
import { waitWhileEqual, WAIT_SAFETY_MS } from './atomic-wait.ts';
import { stageTableWords } from './stage-barrier.ts';

/** Data bytes of a slot: a batch of tasks, or a reduce task with the outputs of some hundred maps. */
export const DEFAULT_SLOT_BYTES = 16 * 1024;
const SLOT_HEAD_WORDS = 4;
const STATE = 0;
const METHOD = 1;
const LENGTH = 2;

export const EMPTY = 0;
export const REQUESTED = 1;
export const SERVING = 2;
export const POSTED = 3;
export const FAILED = 4;
export const OVERSIZE = 5;
export const TAKEN = 6;
export const CLOSED = 7;

export const TASK_SLOT = 0;
export const REPORT_SLOT = 1;
const SLOTS_PER_PROCESSOR = 2;

/** The calls that go through the board, by their code in a slot's method word. */
export const BOARD_METHODS = ['requestTask', 'reportAttempt', 'reportAttempts'] as const;
export type BoardMethod = (typeof BOARD_METHODS)[number];

export const DOORBELL = 0;
/** Int32 word where the barrier's table starts. */
export const STAGE_TABLE = 1;

/** A plain object of one SharedArrayBuffer: pass it to worker threads in workerData, it is shared, not copied. */
export interface BoardMemory {
  nodes: number;
  slotBytes: number;
  words: SharedArrayBuffer;
}

/** Bytes of a touch of n words: what a processor is charged for it. */
export const wordBytes = (n: number): number => 4 * n;

/** Charges a processor's touch of `bytes` of the board (FabricPort.accessBoard), or nothing (the master). */
export type Charge = (bytes: number) => void;

const slotWords = (slotBytes: number): number => SLOT_HEAD_WORDS + slotBytes / 4;

export function createBoardMemory(nodes: number, slotBytes = DEFAULT_SLOT_BYTES): BoardMemory {
  if (!Number.isInteger(slotBytes) || slotBytes < 64 || slotBytes % 4 !== 0) throw new RangeError(`a board slot holds a multiple of 4 bytes, at least 64, not ${slotBytes}`);
  const words = STAGE_TABLE + stageTableWords() + nodes * SLOTS_PER_PROCESSOR * slotWords(slotBytes);
  return { nodes, slotBytes, words: new SharedArrayBuffer(words * 4) };
}

/** One slot of the board, as either side sees it. */
export class BoardSlot {
  readonly words: Int32Array;
  readonly data: Uint8Array;
  private readonly board: Int32Array;

  constructor(readonly memory: BoardMemory, readonly processor: number, readonly kind: number) {
    if (!Number.isInteger(processor) || processor < 0 || processor >= memory.nodes) throw new RangeError(`processor ${processor} is not in 0..${memory.nodes - 1}`);
    const at = (STAGE_TABLE + stageTableWords() + (processor * SLOTS_PER_PROCESSOR + kind) * slotWords(memory.slotBytes)) * 4;
    this.words = new Int32Array(memory.words, at, SLOT_HEAD_WORDS);
    this.data = new Uint8Array(memory.words, at + SLOT_HEAD_WORDS * 4, memory.slotBytes);
    this.board = new Int32Array(memory.words);
  }

  state(): number {
    return Atomics.load(this.words, STATE);
  }

  private swap(from: number, to: number): boolean {
    return Atomics.compareExchange(this.words, STATE, from, to) === from;
  }

  // --- the processor's side ---

  /**
   * Writes a request into the slot and rings the doorbell. 'busy': a call is still in the slot;
   * 'too-large': the request does not fit; 'closed': the master stopped. A reply left by an
   * abandoned call is taken and dropped first.
   */
  post(method: BoardMethod, request: Uint8Array, charge: Charge): 'posted' | 'busy' | 'too-large' | 'closed' {
    let state = this.state();
    charge(wordBytes(1));
    if (state === POSTED || state === FAILED || state === OVERSIZE) {
      if (this.swap(state, TAKEN)) state = TAKEN;
      charge(wordBytes(1));
    }
    if (state === CLOSED) return 'closed';
    if (state !== EMPTY && state !== TAKEN) return 'busy';
    if (request.length > this.data.length) return 'too-large';
    this.data.set(request);
    Atomics.store(this.words, METHOD, BOARD_METHODS.indexOf(method));
    Atomics.store(this.words, LENGTH, request.length);
    charge(request.length + wordBytes(2));
    // The compareExchange publishes the bytes written before it to the master's thread.
    if (!this.swap(state, REQUESTED)) return this.state() === CLOSED ? 'closed' : 'busy';
    Atomics.add(this.board, DOORBELL, 1);
    Atomics.notify(this.board, DOORBELL);
    charge(wordBytes(2));
    return 'posted';
  }

  /**
   * Waits for the master's answer to the request posted, until deadlineMs (Date.now() time), and
   * takes it. Each look at the state word is a touch of the board.
   */
  async awaitReply(deadlineMs: number, charge: Charge): Promise<SlotReply> {
    for (;;) {
      const state = this.state();
      charge(wordBytes(1));
      if (state === CLOSED) return { kind: 'closed' };
      if (state === POSTED || state === FAILED || state === OVERSIZE) {
        const length = Atomics.load(this.words, LENGTH);
        if (!this.swap(state, TAKEN)) continue;
        charge(wordBytes(2));
        if (state === OVERSIZE) return { kind: 'oversize', bytes: length };
        const bytes = this.data.slice(0, length);
        charge(length);
        return state === POSTED ? { kind: 'reply', bytes } : { kind: 'failed', message: new TextDecoder().decode(bytes) };
      }
      const leftMs = deadlineMs - Date.now();
      if (leftMs <= 0) return { kind: 'timeout' };
      await waitWhileEqual(this.words, STATE, state, Math.min(leftMs, WAIT_SAFETY_MS));
    }
  }

  // --- the master's side (not charged: the master is no processor) ---

  /** A request waiting in the slot, now the master's (SERVING), or undefined. */
  takeRequest(): { method: BoardMethod; request: Uint8Array } | undefined {
    if (!this.swap(REQUESTED, SERVING)) return undefined;
    const method = BOARD_METHODS[Atomics.load(this.words, METHOD)];
    const request = this.data.slice(0, Atomics.load(this.words, LENGTH));
    return method ? { method, request } : undefined;
  }

  /** The reply to the request being served; OVERSIZE if it does not fit. Nothing once closed. */
  postReply(reply: Uint8Array): void {
    if (reply.length > this.data.length) {
      this.finish(OVERSIZE, undefined, reply.length);
      return;
    }
    this.finish(POSTED, reply, reply.length);
  }

  /** The request being served failed: its message is the reply. */
  postFailure(message: string): void {
    const bytes = new TextEncoder().encode(message).subarray(0, this.data.length);
    this.finish(FAILED, bytes, bytes.length);
  }

  /** No call will be answered any more: a processor waiting, or calling later, is told at once. */
  close(): void {
    Atomics.store(this.words, STATE, CLOSED);
    Atomics.notify(this.words, STATE);
  }

  private finish(state: number, bytes: Uint8Array | undefined, length: number): void {
    if (this.state() !== SERVING) return;   // closed meanwhile
    if (bytes) this.data.set(bytes);
    Atomics.store(this.words, LENGTH, length);
    if (this.swap(SERVING, state)) Atomics.notify(this.words, STATE);
  }
}

export type SlotReply =
  | { kind: 'reply'; bytes: Uint8Array }
  | { kind: 'failed'; message: string }
  | { kind: 'oversize'; bytes: number }
  | { kind: 'timeout' }
  | { kind: 'closed' };

/** The doorbell word, which the master waits on and processors ring. */
export function doorbell(memory: BoardMemory): Int32Array {
  return new Int32Array(memory.words, 0, 1);
}

/** The barrier's table (stage-barrier.ts). */
export function stageTable(memory: BoardMemory): Int32Array {
  return new Int32Array(memory.words, STAGE_TABLE * 4, stageTableWords());
}

/** Every slot of the board, in scanning order. */
export function allSlots(memory: BoardMemory): BoardSlot[] {
  const slots: BoardSlot[] = [];
  for (let p = 0; p < memory.nodes; p++) for (let kind = 0; kind < SLOTS_PER_PROCESSOR; kind++) slots.push(new BoardSlot(memory, p, kind));
  return slots;
}
