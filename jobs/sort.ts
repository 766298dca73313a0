// Total-order sort of the input lines: the output files, concatenated in order, are globally
// sorted (byte order). Each line is a key; its value is how many times it occurs. Reducers get
// ranges of keys, cut at quantiles of a sample of the input taken before the job starts (as
// Hadoop's TeraSort does), so they stay balanced even on skewed keys. As a later stage of a chain
// (no input to sample yet) every key goes to reducer 0: still sorted, not balanced.
// npx mr run jobs/sort.ts --input 'datasets/gutenberg/*.txt' --output out/sorted --reducers 8
import { open, stat } from 'node:fs/promises';
import { compareKeys, defineJob, type JobOptions } from 'mr';

const WINDOW_BYTES = 64 * 1024;
const SAMPLE_WINDOWS = 64;

/** Complete lines of evenly spaced windows of the files: a sample of the keys, with their frequencies. */
async function sampleLines(files: readonly string[]): Promise<string[]> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  const step = Math.max(WINDOW_BYTES, Math.floor(total / SAMPLE_WINDOWS));
  const lines: string[] = [];
  for (const [i, file] of files.entries()) {
    const handle = await open(file, 'r');
    try {
      for (let at = 0; at < sizes[i]; at += step) {
        const buffer = Buffer.alloc(Math.min(WINDOW_BYTES, sizes[i] - at));
        await handle.read(buffer, 0, buffer.length, at);
        const parts = new TextDecoder().decode(buffer).split('\n');
        if (at > 0) parts.shift();                  // cut at the window's start
        if (at + buffer.length < sizes[i]) parts.pop(); // cut at its end
        for (const line of parts) lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      }
    } finally {
      await handle.close();
    }
  }
  return lines;
}

/** reducers - 1 keys cutting the sorted sample into equal parts (fewer when keys repeat). */
export function splitPoints(sample: string[], reducers: number): string[] {
  const sorted = [...sample].sort(compareKeys);
  const points: string[] = [];
  for (let r = 1; r < reducers && sorted.length > 0; r++) {
    const point = sorted[Math.floor((r * sorted.length) / reducers)];
    if (points.length === 0 || compareKeys(point, points[points.length - 1]) > 0) points.push(point);
  }
  return points;
}

const parsed = new Map<string, string[]>();
function pointsOf(options: JobOptions): string[] {
  const text = options['sort.splitPoints'] ?? '[]';
  let points = parsed.get(text);
  if (!points) parsed.set(text, (points = JSON.parse(text) as string[]));
  return points;
}

export default defineJob<number, number>({
  async prepare({ files, reducers }) {
    return { 'sort.splitPoints': JSON.stringify(files.length ? splitPoints(await sampleLines(files), reducers) : []) };
  },
  map(line, emit) {
    emit(line, 1);
  },
  combine: (_line, counts) => counts.reduce((a, b) => a + b, 0),
  reduce: (_line, counts) => counts.reduce((a, b) => a + b, 0),
  /** The number of split points at or below the key: keys below the first go to reducer 0. */
  partition(key, reducers, options) {
    const points = pointsOf(options);
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(points[mid], key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, reducers - 1);
  },
});
