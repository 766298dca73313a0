// Word count with its own string functions (the generic path): a word is a maximal run of Unicode
// letters (\p{L}+), lower-cased. Same output as wordcount.ts, which uses the built-in operators.
// npx mr run jobs/wordcount-strings.ts --input 'datasets/gutenberg/*.txt' --output out/wordcount
import { defineJob } from 'mr';

const WORD = /\p{L}+/gu;

export default defineJob<number, number>({
  map(line, emit) {
    const words = line.match(WORD);
    if (words !== null) for (const word of words) emit(word.toLowerCase(), 1);
  },
  combine: (_word, counts) => sum(counts),
  reduce: (_word, counts) => sum(counts),
});

function sum(counts: number[]): number {
  let total = 0;
  for (const n of counts) total += n;
  return total;
}
