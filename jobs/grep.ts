// Lines matching a regular expression (--set pattern=REGEX, optional --set flags=i), keyed by
// "<file>:<line number>" with the line number zero-padded to 9 digits so that the output is in
// file and line order; the value is the line. Whole files are read (line numbers need them).
// npx mr run jobs/grep.ts --input 'datasets/gutenberg/*.txt' --output out/grep --set pattern='\bwhale\b' --set flags=i
import { basename } from 'node:path';
import { defineJob, type JobOptions } from 'mr';

function patternOf(options: JobOptions): RegExp {
  if (!options.pattern) throw new Error('grep needs a pattern: --set pattern=REGEX');
  return new RegExp(options.pattern, (options.flags ?? '').replace(/[gy]/g, ''));
}

export default defineJob<string, string>({
  input: 'file',
  reducers: 1,
  prepare({ options }) {
    patternOf(options); // a missing or broken pattern is a usage error before anything runs
    return {};
  },
  map(text, emit, ctx) {
    const pattern = patternOf(ctx.options);
    const name = basename(ctx.file);
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    lines.forEach((raw, i) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (pattern.test(line)) {
        emit(`${name}:${String(i + 1).padStart(9, '0')}`, line);
        ctx.count('grep.matches');
      }
    });
  },
  reduce: (_key, lines) => lines.join('\n'),
});
