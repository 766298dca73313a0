// Sorting keys held as bytes in an arena (the byte-level tables) into byte order, which is the
// order of the output files, without making a string per key.

/** Where each entry's key lies in the arena. */
export interface KeySpans {
  arena: Uint8Array;
  starts: Int32Array;
  lengths: Int32Array;
}

const PREFIX_BYTES = 6;   // 48 bits: exact in a double

/**
 * Sorts the entry indices in `order` by the byte order of their keys. Each key's first six bytes
 * are packed into a number, so most comparisons are one subtraction; keys that share those six
 * bytes are compared byte by byte.
 */
export function sortByKeyBytes(keys: KeySpans, order: Int32Array): Int32Array {
  const { arena, starts, lengths } = keys;
  const prefix = new Float64Array(starts.length);
  for (let i = 0; i < order.length; i++) {
    const e = order[i];
    const from = starts[e];
    const n = lengths[e] < PREFIX_BYTES ? lengths[e] : PREFIX_BYTES;
    let p = 0;
    for (let k = 0; k < PREFIX_BYTES; k++) p = p * 256 + (k < n ? arena[from + k] : 0);
    prefix[e] = p;
  }
  return order.sort((a, b) => prefix[a] - prefix[b] || compareKeyBytes(keys, a, b));
}

/** Compares the keys of entries a and b byte by byte; a key that is a prefix of the other comes first. */
export function compareKeyBytes({ arena, starts, lengths }: KeySpans, a: number, b: number): number {
  const la = lengths[a];
  const lb = lengths[b];
  const n = la < lb ? la : lb;
  const fa = starts[a];
  const fb = starts[b];
  for (let k = 0; k < n; k++) {
    const d = arena[fa + k] - arena[fb + k];
    if (d !== 0) return d;
  }
  return la - lb;
}
