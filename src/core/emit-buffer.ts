// The map side's in-memory buffer: values grouped by key, pre-combined as they arrive when the
// job has a combiner, with a byte estimate that tells the map task when to spill.
import { sortInByteOrder } from './key-order.ts';
import type { Partitioner } from './partitioner.ts';

export type Combiner = (key: string, values: any[]) => unknown;

/** A partition's share of a drained buffer: keys in byte order, each with its values. */
export type SortedGroups = [string, unknown[]][];

const KEY_OVERHEAD_BYTES = 160;  // Map entry, value array and string headers: measured ~185 B for a 9-letter key
const SURROGATE = /[\uD800-\uDFFF]/;
// V8 makes a substring of this many characters or more a view into its parent string: a key
// kept as such a view would keep its whole input line, and the chunk that line came from, alive.
const SLICE_MIN_CHARS = 13;

/** A flat copy of a string that no longer refers to the string it was cut from. */
function ownCopy(text: string): string {
  return (' ' + text).slice(1);
}

export function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'number': case 'boolean': case 'undefined': return 8;
    case 'string': return 24 + value.length * 2;
    default: return value === null ? 8 : 64;
  }
}

/**
 * Without a combiner, a key's values in emit order. With one, a single accumulated value per key:
 * each value emitted is folded in at once, combine(key, [accumulated, value]), as a combiner
 * may be applied to any part of a key's values (it is associative), so no list of pending
 * values is kept and a frequent key costs no more memory than a rare one.
 */
export class EmitBuffer {
  private lists = new Map<string, unknown[]>();      // without a combiner
  private folded = new Map<string, unknown>();       // with one
  bytes = 0;
  records = 0;

  constructor(private readonly combine?: Combiner) {}

  add(key: string, value: unknown): void {
    this.records++;
    if (this.combine !== undefined) {
      this.fold(key, value, this.combine);
      return;
    }
    const values = this.lists.get(key);
    if (values === undefined) {
      this.lists.set(key.length < SLICE_MIN_CHARS ? key : ownCopy(key), [value]);
      this.bytes += KEY_OVERHEAD_BYTES + key.length * 2 + estimateBytes(value);
      return;
    }
    // The hot path of a map task without a combiner: one lookup, one push, a size estimate without a call for numbers.
    values.push(value);
    this.bytes += typeof value === 'number' ? 8 : estimateBytes(value);
  }

  private fold(key: string, value: unknown, combine: Combiner): void {
    const before = this.folded.get(key);
    if (before === undefined && !this.folded.has(key)) {
      this.folded.set(key.length < SLICE_MIN_CHARS ? key : ownCopy(key), value);
      this.bytes += KEY_OVERHEAD_BYTES + key.length * 2 + estimateBytes(value);
      return;
    }
    const after = combine(key, [before, value]);
    this.folded.set(key, after);
    if (typeof after !== 'number' || typeof before !== 'number') this.bytes += estimateBytes(after) - estimateBytes(before);
  }

  get size(): number {
    return this.combine !== undefined ? this.folded.size : this.lists.size;
  }

  /** Empties the buffer into one sorted group list per partition (with a combiner, each key's one value). */
  drain(partitioner: Partitioner, partitions: number): SortedGroups[] {
    const keys: string[][] = Array.from({ length: partitions }, () => []);
    let astral = false;
    const source: Map<string, unknown> = this.combine !== undefined ? this.folded : this.lists;
    for (const key of source.keys()) {
      keys[partitioner(key)].push(key);
      if (!astral && SURROGATE.test(key)) astral = true;
    }
    const lists = this.lists;
    const folded = this.folded;
    const combined = this.combine !== undefined;
    this.lists = new Map();
    this.folded = new Map();
    this.bytes = 0;
    return keys.map((list) => {
      sortInByteOrder(list, astral);
      return list.map((key): [string, unknown[]] => [key, combined ? [folded.get(key)] : lists.get(key) as unknown[]]);
    });
  }
}
