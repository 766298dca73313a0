// Word count: a word is a maximal run of Unicode letters (\p{L}+), lower-cased; the value is its count.
// Built from the built-in operators, so it runs on the byte-level path (no string per word);
// wordcount-strings.ts is the same job written with string functions.
// npx mr run jobs/wordcount.ts --input 'datasets/gutenberg/*.txt' --output out/wordcount
import { countWords, defineJob, sum } from 'mr';

export default defineJob<number, number>({
  map: countWords,
  combine: sum,
  reduce: sum,
});
