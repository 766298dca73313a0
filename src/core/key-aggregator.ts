// A reducer's byte-level table for the built-in aggregations: one accumulated number per key
// (values[e]), keys held once as bytes. Values are folded in the order they arrive, which is the
// order a merge would give them (runs in order, then records), so the results equal the built-in
// functions' on the merged values, bit for bit.
import { ByteKeyTable, fnv1a } from './byte-key-table.ts';

export type Aggregation = 'sum' | 'count' | 'min' | 'max';

export class KeyAggregator extends ByteKeyTable {
  constructor(private readonly aggregation: Aggregation) {
    super(1 << 13);
  }

  /** Folds value into the key buf[from, to). */
  add(buf: Uint8Array, from: number, to: number, value: number): void {
    const hash = fnv1a(buf, from, to);
    const e = this.find(buf, from, to - from, hash);
    if (e < 0) {
      // the built-in sum starts from 0 (so -0 comes out as 0); count counts the value
      const first = this.aggregation === 'sum' ? 0 + value : this.aggregation === 'count' ? 1 : value;
      this.insertCopy(-1 - e, hash, buf, from, to - from, first);
      return;
    }
    switch (this.aggregation) {
      case 'sum': this.values[e] += value; break;
      case 'count': this.values[e]++; break;
      case 'min': if (value < this.values[e]) this.values[e] = value; break;
      default: if (value > this.values[e]) this.values[e] = value;
    }
  }
}
