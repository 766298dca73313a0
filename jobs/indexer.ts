// Inverted index: for each word (a maximal run of Unicode letters, lower-cased), the number of
// input files that contain it, a space, then their base names, sorted and comma-separated.
// npx mr run jobs/indexer.ts --input 'datasets/gutenberg/*.txt' --output out/index
import { basename } from 'node:path';
import { defineJob } from 'mr';

const WORD = /\p{L}+/gu;

export default defineJob<string[], string>({
  map(line, emit, ctx) {
    const file = [basename(ctx.file)];
    const words = line.match(WORD);
    if (words !== null) for (const word of words) emit(word.toLowerCase(), file);
  },
  combine: (_word, lists) => union(lists),
  reduce(_word, lists) {
    const files = union(lists);
    return `${files.length} ${files.join(',')}`;
  },
});

function union(lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}
