// Sorting keys held as bytes in an arena (the byte-level tables) into byte order, which is the
// order of the output files, without making a string per key.

/** Where each entry's key lies in the arena. */
export interface KeySpans {
  arena: Uint8Array;
  starts: Int32Array;
  lengths: Int32Array;
}

const INDEX_BITS = 21;
const INDEX_SCALE = 2 ** INDEX_BITS;   // a key's first 4 bytes times this, plus its place: exact in a double

/**
 * Sorts the entry indices in `order` by the byte order of their keys. Each entry becomes one
 * number, its key's first four bytes then its place in `order`, and the numbers are sorted by
 * the built-in numeric sort (no call per comparison); only keys that share their first four
 * bytes are then compared byte by byte, in the short runs they form.
 */
export function sortByKeyBytes(keys: KeySpans, order: Int32Array): Int32Array {
  const n = order.length;
  if (n >= INDEX_SCALE) return order.sort((a, b) => compareKeyBytes(keys, a, b));
  const { arena, starts, lengths } = keys;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = order[i];
    const from = starts[e];
    const length = lengths[e];
    const prefix = (length > 0 ? arena[from] * 0x1000000 : 0) + (length > 1 ? arena[from + 1] << 16 : 0)
      + (length > 2 ? arena[from + 2] << 8 : 0) + (length > 3 ? arena[from + 3] : 0);
    packed[i] = prefix * INDEX_SCALE + i;
  }
  packed.sort();
  const sorted = new Int32Array(n);
  for (let i = 0; i < n; i++) sorted[i] = order[packed[i] % INDEX_SCALE];
  // Runs of keys with the same first four bytes: in byte order among themselves.
  for (let i = 0; i < n;) {
    const prefix = Math.floor(packed[i] / INDEX_SCALE);
    let j = i + 1;
    while (j < n && Math.floor(packed[j] / INDEX_SCALE) === prefix) j++;
    if (j - i > 1) sorted.subarray(i, j).sort((a, b) => compareKeyBytes(keys, a, b));
    i = j;
  }
  order.set(sorted);
  return order;
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
