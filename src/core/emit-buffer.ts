// The map side's in-memory buffer: values grouped by key, pre-combined as they arrive when the
// job has a combiner, with a byte estimate that tells the map task when to spill.
import { sortInByteOrder } from './key-order.ts';
import type { Partitioner } from './partitioner.ts';

export type Combiner = (key: string, values: any[]) => unknown;

/** A partition's share of a drained buffer: keys in byte order, each with its values. */
export type SortedGroups = [string, unknown[]][];

const KEY_OVERHEAD_BYTES = 160;  // Map entry, value array and string headers: measured ~185 B for a 9-letter key
const COMBINE_EVERY = 32;        // combine a key's values once this many have piled up
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

export class EmitBuffer {
  private groups = new Map<string, unknown[]>();
  bytes = 0;
  records = 0;

  constructor(private readonly combine?: Combiner) {}

  add(key: string, value: unknown): void {
    this.records++;
    const values = this.groups.get(key);
    if (values === undefined) {
      this.groups.set(key.length < SLICE_MIN_CHARS ? key : ownCopy(key), [value]);
      this.bytes += KEY_OVERHEAD_BYTES + key.length * 2 + estimateBytes(value);
      return;
    }
    // The hot path of every map task: one lookup, one push, a size estimate without a call for numbers.
    const count = values.push(value);
    this.bytes += typeof value === 'number' ? 8 : estimateBytes(value);
    if (count >= COMBINE_EVERY && this.combine !== undefined) this.combineInPlace(key, values);
  }

  private combineInPlace(key: string, values: unknown[]): void {
    let before = 0;
    for (const v of values) before += estimateBytes(v);
    const combined = (this.combine as Combiner)(key, values);
    values.length = 1;
    values[0] = combined;
    this.bytes += estimateBytes(combined) - before;
  }

  get size(): number {
    return this.groups.size;
  }

  /** Empties the buffer into one sorted group list per partition, each key's values combined. */
  drain(partitioner: Partitioner, partitions: number): SortedGroups[] {
    const keys: string[][] = Array.from({ length: partitions }, () => []);
    let astral = false;
    for (const [key, values] of this.groups) {
      if (this.combine !== undefined && values.length > 1) this.combineInPlace(key, values);
      keys[partitioner(key)].push(key);
      if (!astral && SURROGATE.test(key)) astral = true;
    }
    const groups = this.groups;
    this.groups = new Map();
    this.bytes = 0;
    return keys.map((list) => {
      sortInByteOrder(list, astral);
      return list.map((key): [string, unknown[]] => [key, groups.get(key) as unknown[]]);
    });
  }
}
