// A user's own word count with a cheap map: lower-case the line, split it on what is not an
// ASCII letter, emit each word with 1; combine and reduce sum. What separates mr from a plain
// loop of the same functions is the engine's cost per emitted record (bench/map-vs-loop.ts).
import { defineJob } from 'mr';

const NOT_LETTERS = /[^a-z]+/;

export default defineJob<number, number>({
  map(line, emit) {
    for (const word of line.toLowerCase().split(NOT_LETTERS)) if (word !== '') emit(word, 1);
  },
  combine: (_word, counts) => sum(counts),
  reduce: (_word, counts) => sum(counts),
});

function sum(counts: number[]): number {
  let total = 0;
  for (const n of counts) total += n;
  return total;
}
