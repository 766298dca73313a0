// The built-in sum, min and max refuse a value that is not a finite number, through the real CLI:
// the job fails (exit 1) with one line naming the key and where the value came from, instead of
// writing concatenated strings with exit 0.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let input: string;
beforeAll(async () => {
  dir = await tempDir();
  input = join(dir, 'in.txt');
  await writeFile(input, 'the cat\nthe dog\n');
});
afterAll(() => removeDir(dir));

async function job(name: string, body: string): Promise<string> {
  const path = join(dir, `${name}.ts`);
  await writeFile(path, `import { defineJob, sum, min, max } from 'mr';\nexport default defineJob({\n${body}\n});\n`);
  return path;
}

async function failing(path: string, out: string) {
  const r = await runMr(['run', path, '--input', input, '--output', join(dir, out), '--workers', '1', '--reducers', '2', '--max-attempts', '2', '--quiet']);
  expect(r.code).toBe(1);
  expect(existsSync(join(dir, out, '_SUCCESS'))).toBe(false);
  return r.stderr.split('\n')[0];
}

describe('built-in aggregations given values that are not finite numbers', () => {
  it('sum refuses a string emitted by the map, naming the key and the input file and line', async () => {
    const path = await job('sum-strings', `  map(line, emit) { for (const w of line.split(' ')) emit(w, 'one' as any); },\n  combine: sum,\n  reduce: sum,`);
    const line = await failing(path, 'out-sum');
    expect(line).toMatch(/^mr: job failed: stage 1 map task 0 failed 2 times; last error: map threw on input .*in\.txt line 1 \(byte 0\): sum takes finite numbers, got "one" \(a string\) for key "the" \(at .*sum-strings\.ts:\d+:\d+\)$/);
  });

  it('max without a combine refuses a string, naming its key and input', async () => {
    const path = await job('max-strings', `  map(line, emit) { for (const w of line.split(' ')) emit(w, (w === 'dog' ? 'x' : 3) as number); },\n  reduce: max,`);
    const line = await failing(path, 'out-max');
    expect(line).toMatch(/map threw on input .*in\.txt line 2 \(byte 8\): max takes finite numbers, got "x" \(a string\) for key "dog"/);
  });

  it('min refuses NaN', async () => {
    const path = await job('min-nan', `  map(line, emit) { emit(line, Number('n/a')); },\n  reduce: min,`);
    expect(await failing(path, 'out-min')).toMatch(/min takes finite numbers, got NaN \(a number\) for key "the cat"/);
  });

  it("a reduce's sum refuses what a user's combine made of the values, naming the key and the reduce partition", async () => {
    const path = await job('combine-strings', `  map(line, emit) { for (const w of line.split(' ')) emit(w, 1); },\n  combine: (_word, counts) => counts.join('+') as any,\n  reduce: sum,`);
    const line = await failing(path, 'out-combine');
    expect(line).toMatch(/^mr: job failed: stage 1 reduce task (\d) failed 2 times; last error: reduce threw on key "the" in reduce partition \1: sum takes finite numbers, got "1\+1" \(a string\) for key "the"$/);
  });
});
