// K-way merge of sorted sources that deliver records in batches, so that a reducer or a
// map-side spill merge streams its runs instead of loading them. Ties keep source order.

/**
 * A sorted source of records; next() returns the next non-empty batch, or undefined at the end.
 * close() lets go of what it holds (an open file) when the merge stops before the end.
 */
export interface BatchSource<T> {
  next(): Promise<T[] | undefined>;
  close?(): Promise<void>;
}

interface Cursor<T> {
  batch: T[];
  index: number;
  source: number;
}

/** Yields the records of all sources in order, in batches of up to batchSize. */
export async function* mergeSorted<T>(
  sources: readonly BatchSource<T>[],
  compare: (a: T, b: T) => number,
  batchSize = 4096,
): AsyncGenerator<T[]> {
  const before = (a: Cursor<T>, b: Cursor<T>): boolean => {
    const c = compare(a.batch[a.index], b.batch[b.index]);
    return c < 0 || (c === 0 && a.source < b.source);
  };
  const heap = new MinHeap<Cursor<T>>(before);
  try {
    for (let source = 0; source < sources.length; source++) {
      const batch = await nextBatch(sources[source]);
      if (batch) heap.push({ batch, index: 0, source });
    }
    let out: T[] = [];
    while (heap.size > 0) {
      const top = heap.peek();
      out.push(top.batch[top.index++]);
      if (top.index < top.batch.length) {
        heap.fixTop();
      } else {
        const batch = await nextBatch(sources[top.source]);
        if (batch) {
          top.batch = batch;
          top.index = 0;
          heap.fixTop();
        } else {
          heap.pop();
        }
      }
      if (out.length >= batchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    // A reduce or combine that throws stops the merge mid-way: every source closes now, not on GC.
    await Promise.all(sources.map((source) => source.close?.()));
  }
}

async function nextBatch<T>(source: BatchSource<T>): Promise<T[] | undefined> {
  for (;;) {
    const batch = await source.next();
    if (batch === undefined || batch.length > 0) return batch;
  }
}

/** Groups consecutive records with equal keys across batches: calls onGroup(key, values) per key. */
export async function groupSorted<V>(
  batches: AsyncIterable<[string, V][]>,
  onGroup: (key: string, values: V[]) => void | Promise<void>,
): Promise<void> {
  let key: string | undefined;
  let values: V[] = [];
  for await (const batch of batches) {
    for (const [k, v] of batch) {
      if (k === key) {
        values.push(v);
        continue;
      }
      if (key !== undefined) {
        const pending = onGroup(key, values);
        if (pending) await pending;
      }
      key = k;
      values = [v];
    }
  }
  if (key !== undefined) await onGroup(key, values);
}

/** A binary min-heap ordered by `before`; fixTop() restores order after the top changed. */
export class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }
  peek(): T {
    return this.items[0];
  }
  /** Every item, in no particular order. */
  values(): readonly T[] {
    return this.items;
  }
  push(item: T): void {
    const items = this.items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.fixTop();
    }
    return top;
  }
  fixTop(): void {
    const items = this.items;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) return;
      const right = left + 1;
      const child = right < items.length && this.before(items[right], items[left]) ? right : left;
      if (!this.before(items[child], items[i])) return;
      [items[i], items[child]] = [items[child], items[i]];
      i = child;
    }
  }
}
