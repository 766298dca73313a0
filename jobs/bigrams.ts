// Word pairs: each two adjacent words of a line (words as in wordcount), "first second" and its
// count. A job that shows off combine: most pairs repeat within a map task, and the combiner
// sums them there, before the shuffle (compare combine.inputRecords and combine.outputRecords).
// npx mr run jobs/bigrams.ts --input 'datasets/gutenberg/*.txt' --output out/bigrams
import { defineJob } from 'mr';

const WORD = /\p{L}+/gu;

export default defineJob<number, number>({
  map(line, emit) {
    const words = line.match(WORD);
    if (words === null) return;
    for (let i = 1; i < words.length; i++) emit(`${words[i - 1].toLowerCase()} ${words[i].toLowerCase()}`, 1);
  },
  combine: (_pair, counts) => sum(counts),
  reduce: (_pair, counts) => sum(counts),
});

function sum(counts: number[]): number {
  let total = 0;
  for (const n of counts) total += n;
  return total;
}
