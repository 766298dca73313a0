#!/usr/bin/env node
// `npm start`: the word count of the books in datasets/gutenberg, through `mr run`, into
// out/wordcount (a previous result there is replaced; anything else there is left alone).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join('out', 'wordcount');
const outPath = join(root, out);
if (existsSync(outPath)) {
  const names = readdirSync(outPath);
  if (names.every((name) => name === '_SUCCESS' || /^part-r-\d{5}$/.test(name))) rmSync(outPath, { recursive: true, force: true });
}
const args = ['bin/mr.mjs', 'run', 'jobs/wordcount.ts', '--input', 'datasets/gutenberg/*.txt', '--output', out];
process.stderr.write(`$ npx mr ${args.slice(1).map((a) => (a.includes('*') ? `'${a}'` : a)).join(' ')}\n`);
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (run.status === 0) {
  process.stderr.write(`\nThe word count is in ${out}/part-r-*: one "word<TAB>count" line per word, sorted by word.\n`);
  process.stderr.write(`The most frequent words: sort -t$'\\t' -k2,2nr ${out}/part-r-* | head\n`);
}
process.exit(run.status ?? 1);
