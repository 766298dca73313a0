// The storage the byte-level tables share (the map's WordTable, the reducer's KeyAggregator):
// open addressing on a 32-bit hash over typed arrays, each key's bytes stored once in an arena,
// one number per key. Subclasses decide how a key is hashed and what its number means.
import type { KeySpans } from './byte-order.ts';

export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/** FNV-1a of bytes[from, to): the default partitioner's hash of a key's UTF-8 bytes. */
export function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = FNV_OFFSET;
  for (let k = from; k < to; k++) hash = Math.imul(hash ^ bytes[k], FNV_PRIME);
  return hash;
}

const ENTRY_BYTES = 4 * 4 + 8; // hash, key start, key length, slot and value, per key

export class ByteKeyTable implements KeySpans {
  protected slots!: Int32Array;       // entry index + 1, or 0 for an empty slot
  protected mask!: number;
  protected hashes!: Int32Array;
  starts!: Int32Array;
  lengths!: Int32Array;
  values!: Float64Array;
  arena!: Uint8Array;
  protected arenaUsed = 0;
  protected entries = 0;

  /** initialSlots: a power of two; the table doubles from there. */
  constructor(private readonly initialSlots = 1 << 14) {
    this.reset();
  }

  /** Keys held. */
  get size(): number {
    return this.entries;
  }

  /** What the table holds, roughly, in bytes. */
  get bytes(): number {
    return this.arenaUsed + this.entries * ENTRY_BYTES + this.slots.length * 4;
  }

  /** The entry of the key bytes[from, from + length) whose hash is given, or -1 - the free slot where it goes. */
  protected find(bytes: Uint8Array, from: number, length: number, hash: number): number {
    const arena = this.arena;
    let slot = hash & this.mask;
    for (;;) {
      const entry = this.slots[slot];
      if (entry === 0) return -1 - slot;
      const e = entry - 1;
      if (this.hashes[e] === hash && this.lengths[e] === length) {
        const start = this.starts[e];
        let k = 0;
        while (k < length && arena[start + k] === bytes[from + k]) k++;
        if (k === length) return e;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Adds the key bytes[from, from + length) at the free slot find() gave; returns its entry. */
  protected insertCopy(slot: number, hash: number, bytes: Uint8Array, from: number, length: number, value: number): number {
    const start = this.reserve(length);
    this.arena.set(bytes.subarray(from, from + length), start);
    return this.insert(slot, hash, start, length, value);
  }

  /** Room for a key of length bytes at the arena's end; returns where it starts. */
  protected reserve(length: number): number {
    if (this.arenaUsed + length > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + length));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
    }
    const start = this.arenaUsed;
    this.arenaUsed += length;
    return start;
  }

  /** Adds a key already written to the arena at start; returns its entry. */
  protected insert(slot: number, hash: number, start: number, length: number, value: number): number {
    const e = this.entries++;
    if (e === this.hashes.length) this.growEntries();
    this.hashes[e] = hash;
    this.starts[e] = start;
    this.lengths[e] = length;
    this.values[e] = value;
    this.slots[slot] = e + 1;
    if (this.entries * 2 > this.slots.length) this.growSlots();
    return e;
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, next: T): T => {
      next.set(old);
      return next;
    };
    this.hashes = grow(this.hashes, new Int32Array(n));
    this.starts = grow(this.starts, new Int32Array(n));
    this.lengths = grow(this.lengths, new Int32Array(n));
    this.values = grow(this.values, new Float64Array(n));
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.entries; e++) {
      let slot = this.hashes[e] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }

  /** Empties the table (new arrays: what was drained from it stays valid). */
  protected reset(): void {
    const slots = this.initialSlots;
    this.slots = new Int32Array(slots);
    this.mask = slots - 1;
    this.hashes = new Int32Array(slots / 2);
    this.starts = new Int32Array(slots / 2);
    this.lengths = new Int32Array(slots / 2);
    this.values = new Float64Array(slots / 2);
    this.arena = new Uint8Array(slots * 4);
    this.arenaUsed = 0;
    this.entries = 0;
  }
}
