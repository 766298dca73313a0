// Bad input gets its exit code and a one-line message, and never leaves partial output.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, FIXTURES, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { referenceWordCount } from '../helpers/reference.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines.at(-1)).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('usage errors exit 2 and submit nothing', () => {
  it('a job file that does not exist', async () => {
    const r = await runMr(['run', join(dir, 'missing.ts'), '--input', BOOKS, '--output', join(dir, 'o1')]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /^mr: job module .*missing\.ts not found/);
  });

  it('a job file that does not parse', async () => {
    const job = join(dir, 'broken.ts');
    await writeFile(job, 'export default { map(line, emit) {\n');
    const r = await runMr(['run', job, '--input', BOOKS, '--output', join(dir, 'o2')]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /^mr: job module .*broken\.ts does not load/);
  });

  it('a module without map and reduce', async () => {
    const job = join(dir, 'nojob.mjs');
    await writeFile(job, 'export default { hello: 1 };\n');
    const r = await runMr(['run', job, '--input', BOOKS, '--output', join(dir, 'o3')]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /no map and no reduce function/);
  });

  it('a glob that matches nothing', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', join(dir, 'nothing-*.txt'), '--output', join(dir, 'o4')]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /matches no file/);
  });

  it('an output directory that is not empty, which is left untouched', async () => {
    const out = join(dir, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'precious.txt'), 'keep me');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /is not empty/);
    expect(await readdir(out)).toEqual(['precious.txt']);
    expect(await readFile(join(out, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('bad numbers and unknown options', async () => {
    for (const args of [['--reducers', '0'], ['--workers', 'many'], ['--bogus'], ['--transport', 'carrier-pigeon']]) {
      const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'o5'), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('backend capabilities are checked before anything starts', () => {
  it('the in-process memory backend cannot submit to a master nor run daemons', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'o6'), '--transport', 'memory', '--master', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /cannot submit to --master/);
    const w = await runMr(['worker', '--master', '127.0.0.1:1', '--work-dir', join(dir, 'w'), '--transport', 'memory']);
    expect(w.code).toBe(2);
    expectOneLineError(w.stderr, /has no daemons/);
  });
});

describe('job failures exit 1 and leave no output', () => {
  it('a map that throws names the error and the input file', async () => {
    const out = join(dir, 'failed');
    const r = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', out, '--workers', '2', '--quiet']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /^mr: job failed: .*failed 4 times.*pg-sherlock_holmes\.txt.*no Holmes allowed/);
    expect((await readdir(out)).filter((name) => name.startsWith('part-r-') || name === '_SUCCESS')).toEqual([]);
  });
});

describe('awkward input', () => {
  it('binary and empty files do not crash the engine', async () => {
    const binary = join(dir, 'noise.bin');
    const empty = join(dir, 'empty.txt');
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    await writeFile(binary, bytes);
    await writeFile(empty, '');
    const out = join(dir, 'binary-out');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', binary, '--input', empty, '--output', out, '--reducers', '3', '--quiet']);
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount([binary, empty]));
  });

  it('keys beyond U+FFFF sort in UTF-8 byte order, not JavaScript string order', async () => {
    const input = join(dir, 'astral.txt');
    await writeFile(input, 'ＡＢＣ 𝒜𝒷𝒸 abc ﬁx 𝒜𝒷𝒸 zebra 日本\n');
    const out = join(dir, 'astral-out');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', input, '--output', out, '--reducers', '1', '--quiet']);
    expect(r.code).toBe(0);
    const keys = (await readParts(out))[0].text.trim().split('\n').map((line) => line.split('\t')[0]);
    const expected = [...referenceWordCount([input]).keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(keys).toEqual(expected);
    expect(keys.indexOf('ａｂｃ')).toBeLessThan(keys.indexOf('𝒜𝒷𝒸')); // U+FF41 (EF BD 81) before U+1D49C (F0 9D 92 9C)
  });

  it('only empty input: one empty file per reducer', async () => {
    const empty = join(dir, 'only-empty.txt');
    await writeFile(empty, '');
    const out = join(dir, 'empty-out');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', empty, '--output', out, '--reducers', '2', '--quiet']);
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['_SUCCESS', 'part-r-00000', 'part-r-00001']);
    expect((await readParts(out)).map((p) => p.text)).toEqual(['', '']);
  });
});
