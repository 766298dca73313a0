// A reducer's byte-level table for the built-in aggregations: one accumulated number per key,
// keys held once as bytes in an arena, open addressing on FNV-1a. Values are folded in the
// order they arrive, which is the order a merge would give them (runs in order, then records),
// so the results equal the built-in functions' on the merged values, bit for bit.
import type { KeySpans } from './byte-order.ts';

export type Aggregation = 'sum' | 'count' | 'min' | 'max';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

export class KeyAggregator implements KeySpans {
  arena = new Uint8Array(1 << 16);
  starts = new Int32Array(1 << 12);
  lengths = new Int32Array(1 << 12);
  values = new Float64Array(1 << 12);
  private hashes = new Int32Array(1 << 12);
  private slots = new Int32Array(1 << 13);   // entry index + 1, or 0 for an empty slot
  private mask = (1 << 13) - 1;
  private arenaUsed = 0;
  size = 0;

  constructor(private readonly aggregation: Aggregation) {}

  /** Folds value into the key buf[from, to). */
  add(buf: Uint8Array, from: number, to: number, value: number): void {
    let hash = FNV_OFFSET;
    for (let k = from; k < to; k++) hash = Math.imul(hash ^ buf[k], FNV_PRIME);
    const length = to - from;
    const arena = this.arena;
    let slot = hash & this.mask;
    for (;;) {
      const entry = this.slots[slot];
      if (entry === 0) break;
      const e = entry - 1;
      if (this.hashes[e] === hash && this.lengths[e] === length) {
        const start = this.starts[e];
        let k = 0;
        while (k < length && arena[start + k] === buf[from + k]) k++;
        if (k === length) {
          this.fold(e, value);
          return;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    const e = this.insert(slot, hash, buf, from, length);
    switch (this.aggregation) {
      case 'sum': this.values[e] = 0 + value; break;   // the built-in sum starts from 0
      case 'count': this.values[e] = 1; break;
      default: this.values[e] = value;
    }
  }

  private fold(e: number, value: number): void {
    switch (this.aggregation) {
      case 'sum': this.values[e] += value; break;
      case 'count': this.values[e]++; break;
      case 'min': if (value < this.values[e]) this.values[e] = value; break;
      default: if (value > this.values[e]) this.values[e] = value;
    }
  }

  private insert(slot: number, hash: number, buf: Uint8Array, from: number, length: number): number {
    if (this.arenaUsed + length > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + length));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
    }
    this.arena.set(buf.subarray(from, from + length), this.arenaUsed);
    const e = this.size++;
    if (e === this.hashes.length) this.growEntries();
    this.hashes[e] = hash;
    this.starts[e] = this.arenaUsed;
    this.lengths[e] = length;
    this.arenaUsed += length;
    this.slots[slot] = e + 1;
    if (this.size * 2 > this.slots.length) this.growSlots();
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
    for (let e = 0; e < this.size; e++) {
      let slot = this.hashes[e] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
