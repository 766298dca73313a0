// The shared directory of the butterfly heap: where each (outputId, partition) lies, readable by
// every thread. Each memory module has its own region of the directory, an open-addressing hash
// table written only by that module's owner thread, so writers never contend; a reader probes the
// regions of all modules (a partition's owner is not known in advance).
//
// An entry is ENTRY_WORDS Int32 words. Its state word is (version << 2 | kind) and works as a
// seqlock: the owner stores WRITING with a new version, writes the fields, then stores PUBLISHED
// with that version; a reader loads the state, the fields, then the state again, and retries if
// it changed, so it never acts on a half-written or reused entry.
import { MrError } from '../../errors.ts';

export const MAX_OUTPUT_ID_BYTES = 96;

const EMPTY = 0;
const WRITING = 1;
const PUBLISHED = 2;
const DELETED = 3;   // a tombstone: probes go on past it, inserts may reuse it

const STATE = 0;
const PARTITION = 1;
const HASH = 2;
const KEY_BYTES = 3;
const PLACE = 4;     // IN_MODULE or SPILLED
const OFFSET = 5;    // from the start of the module
const LENGTH = 6;
const STAMP = 7;     // when it was published, on its writer's simulated clock: whole µs, rounded up
const KEY = 8;       // MAX_OUTPUT_ID_BYTES of UTF-8, zero-padded
const KEY_WORDS = MAX_OUTPUT_ID_BYTES / 4;
export const ENTRY_WORDS = 32;
export const ENTRY_BYTES = ENTRY_WORDS * 4;

const IN_MODULE = 0;
const SPILLED = 1;

/** A module's directory region has no free slot: remove outputs, or give createHeap more entriesPerModule. */
export class DirectoryFullError extends MrError {}

export type Placement = { place: 'module'; offset: number; length: number } | { place: 'spilled'; length: number };

/** A published entry as a reader finds it: where the partition lies, and when it was published. */
export type FoundEntry = Placement & { stampUs: number };

/** Words of the directory a lookup read: what the switch charges for it. */
export interface WordsRead {
  words: number;
}

/** An (outputId, partition) pair encoded once for comparing against entries. */
export interface EntryKey {
  words: Int32Array;   // KEY_WORDS words
  bytes: number;
  partition: number;
  hash: number;
}

const encoder = new TextEncoder();

/**
 * Checks and encodes a key. outputId also names a spill directory, so it must be one path
 * component: 1..96 UTF-8 bytes, no '/', '\', NUL, and not '.' or '..'.
 */
export function entryKey(outputId: string, partition: number): EntryKey {
  const utf8 = encoder.encode(outputId);
  if (utf8.length === 0 || utf8.length > MAX_OUTPUT_ID_BYTES) {
    throw new RangeError(`an output id has 1 to ${MAX_OUTPUT_ID_BYTES} UTF-8 bytes, got ${utf8.length} in '${outputId}'`);
  }
  if (/[/\\\0]/.test(outputId) || outputId === '.' || outputId === '..') {
    throw new RangeError(`an output id names a spill directory, so it cannot be '.', '..' or hold '/', '\\' or NUL: '${outputId}'`);
  }
  if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fff_ffff) {
    throw new RangeError(`a partition is an integer from 0 to ${0x7fff_ffff}, got ${partition}`);
  }
  const padded = new Uint8Array(MAX_OUTPUT_ID_BYTES);
  padded.set(utf8);
  let hash = 0x811c9dc5;   // FNV-1a over the id's bytes, then the partition's
  for (const byte of utf8) hash = Math.imul(hash ^ byte, 0x01000193);
  for (let shift = 0; shift < 32; shift += 8) hash = Math.imul(hash ^ ((partition >>> shift) & 0xff), 0x01000193);
  return { words: new Int32Array(padded.buffer), bytes: utf8.length, partition, hash: hash | 0 };
}

const kindOf = (state: number): number => state & 3;
const withKind = (state: number, kind: number): number => (state & ~3) | kind;
const nextVersion = (state: number, kind: number): number => (((state >>> 2) + 1) << 2) | kind;

/** One module's region: slots [module * slots, (module + 1) * slots) of the directory. */
class Region {
  readonly words: Int32Array;
  reads = 0;
  constructor(directory: SharedArrayBuffer, module: number, readonly slots: number) {
    this.words = new Int32Array(directory, module * slots * ENTRY_BYTES, slots * ENTRY_WORDS);
  }

  word(slot: number, field: number): number {
    this.reads++;
    return Atomics.load(this.words, slot * ENTRY_WORDS + field);
  }

  matches(slot: number, key: EntryKey): boolean {
    if (this.word(slot, HASH) !== key.hash || this.word(slot, PARTITION) !== key.partition || this.word(slot, KEY_BYTES) !== key.bytes) return false;
    for (let i = 0; i < KEY_WORDS; i++) if (this.word(slot, KEY + i) !== key.words[i]) return false;
    return true;
  }
}

/** Finds a published entry in one module's region, or undefined. Any thread. Adds the words it read to `read`. */
export function findEntry(directory: SharedArrayBuffer, module: number, slots: number, key: EntryKey, read?: WordsRead): FoundEntry | undefined {
  const region = new Region(directory, module, slots);
  try {
    return probeRegion(region, key);
  } finally {
    if (read) read.words += region.reads;
  }
}

function probeRegion(region: Region, key: EntryKey): FoundEntry | undefined {
  const { slots } = region;
  for (let probe = 0; probe < slots; probe++) {
    const slot = ((key.hash >>> 0) + probe) % slots;
    for (;;) {
      const before = region.word(slot, STATE);
      const kind = kindOf(before);
      if (kind === EMPTY) return undefined;   // the end of this key's probe chain
      if (kind !== PUBLISHED || !region.matches(slot, key)) {
        if (region.word(slot, STATE) === before) break;   // settled: not ours, probe on
        continue;                                       // changed under us: look again
      }
      const place = region.word(slot, PLACE);
      const offset = region.word(slot, OFFSET);
      const length = region.word(slot, LENGTH);
      const stampUs = region.word(slot, STAMP);
      if (region.word(slot, STATE) !== before) continue;
      return place === SPILLED ? { place: 'spilled', length, stampUs } : { place: 'module', offset, length, stampUs };
    }
  }
  return undefined;
}

/** The owner thread's writer of its module's region. Not for use from two threads. */
export class DirectoryWriter {
  private readonly region: Region;

  constructor(directory: SharedArrayBuffer, private readonly module: number, slots: number) {
    this.region = new Region(directory, module, slots);
  }

  /** Publishes an entry, written at stampNs on the owner's simulated clock; returns its slot, for delete(). The key must not be published already. */
  publish(key: EntryKey, placement: Placement, stampNs = 0): number {
    const slot = this.freeSlot(key);
    const { words } = this.region;
    const base = slot * ENTRY_WORDS;
    const writing = nextVersion(Atomics.load(words, base + STATE), WRITING);
    Atomics.store(words, base + STATE, writing);
    Atomics.store(words, base + PARTITION, key.partition);
    Atomics.store(words, base + HASH, key.hash);
    Atomics.store(words, base + KEY_BYTES, key.bytes);
    for (let i = 0; i < KEY_WORDS; i++) Atomics.store(words, base + KEY + i, key.words[i]);
    Atomics.store(words, base + PLACE, placement.place === 'spilled' ? SPILLED : IN_MODULE);
    Atomics.store(words, base + OFFSET, placement.place === 'module' ? placement.offset : 0);
    Atomics.store(words, base + LENGTH, placement.length);
    Atomics.store(words, base + STAMP, Math.min(0x7fff_ffff, Math.ceil(stampNs / 1000)));
    Atomics.store(words, base + STATE, withKind(writing, PUBLISHED));
    return slot;
  }

  delete(slot: number): void {
    const index = slot * ENTRY_WORDS + STATE;
    Atomics.store(this.region.words, index, nextVersion(Atomics.load(this.region.words, index), DELETED));
  }

  /** The first tombstone or empty slot on the key's probe chain. */
  private freeSlot(key: EntryKey): number {
    const { slots } = this.region;
    for (let probe = 0; probe < slots; probe++) {
      const slot = ((key.hash >>> 0) + probe) % slots;
      const kind = kindOf(this.region.word(slot, STATE));
      if (kind === EMPTY || kind === DELETED) return slot;
    }
    throw new DirectoryFullError(`the directory of memory module ${this.module} is full (${slots} entries): remove finished outputs, or create the heap with more entriesPerModule`);
  }
}
