// The last stage of a chain: a single reducer merges the previous stage's per-reducer lists
// (key<TAB>value files) into one combined list, sorted by key. A key found in several input
// records (only possible when combining outputs of different jobs) gets their values joined with ",".
// npx mr run jobs/wordcount.ts jobs/combine.ts --input 'datasets/gutenberg/*.txt' --output out/combined
import { defineJob } from 'mr';

export default defineJob<string, string>({
  input: 'records',
  reducers: 1,
  map(value, emit, ctx) {
    emit(ctx.key as string, value);
  },
  reduce: (_key, values) => values.join(','),
});
