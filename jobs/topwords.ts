// The N most frequent words, a stage after wordcount: N from --set n=N (or the TOPWORDS_N
// environment variable; default 100). One line per rank, in rank order: "<rank><TAB><word> <count>",
// the rank zero-padded so that byte order is rank order; ties in count are ranked by word.
// npx mr run jobs/wordcount.ts jobs/topwords.ts --input 'datasets/gutenberg/*.txt' --output out/top --set n=20
import { defineJob, type JobOptions } from 'mr';

type Entry = [word: string, count: number];

function topN(options: JobOptions): number {
  const n = Number(options.n ?? process.env.TOPWORDS_N ?? 100);
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a whole number of at least 1, got ${options.n ?? process.env.TOPWORDS_N}`);
  return n;
}

/** The n best entries: count descending, then word. */
function best(lists: Entry[][], n: number): Entry[] {
  return lists.flat().sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
}

export default defineJob<Entry[], string>({
  input: 'records',
  reducers: 1,
  prepare: ({ options }) => ({ n: String(topN(options)) }),
  map(count, emit, ctx) {
    emit('top', [[ctx.key as string, Number(count)]]);
  },
  combine: (_key, lists, ctx) => best(lists, topN(ctx.options)),
  reduce(_key, lists, ctx) {
    const ranked = best(lists, topN(ctx.options));
    const width = String(ranked.length).length;
    ranked.forEach(([word, count], i) => ctx.emit(String(i + 1).padStart(width, '0'), `${word} ${count}`));
    return '';
  },
});
