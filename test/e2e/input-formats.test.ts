// Input that is not plain text: .gz files are read decompressed (one split each, in every input
// mode), and anything else that looks binary is refused before the job runs, unless --binary-ok.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
let corpus: string;              // every book in one file
let corpusGz: string;            // the same, gzipped
beforeAll(async () => {
  dir = await tempDir();
  corpus = join(dir, 'books.txt');
  corpusGz = join(dir, 'books.txt.gz');
  const text = Buffer.concat(await Promise.all(inputFiles(BOOKS).map((file) => readFile(file))));
  await writeFile(corpus, text);
  await writeFile(corpusGz, gzipSync(text));
});
afterAll(() => removeDir(dir));

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('gzip input', () => {
  it('word count of a .gz copy equals the word count of the text: one map task, compressed bytes counted', async () => {
    const out = join(dir, 'wc-gz');
    // Splits far smaller than the file: a .gz file is still one split.
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', corpusGz, '--output', out, '--split-mib', '0.25', '--workers', '2', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const stage = JSON.parse(r.stdout).stages[0];
    expect(stage.mapTasks).toBe(1);
    expect(stage.counters['map.inputBytes']).toBe((await stat(corpusGz)).size);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount([corpus]));
  });

  it('reads concatenated gzip members as one stream, and an empty .gz as empty input', async () => {
    const [a, b] = inputFiles(BOOKS);
    const members = join(dir, 'two-members.gz');
    await writeFile(members, Buffer.concat([gzipSync(await readFile(a)), gzipSync(await readFile(b))]));
    const empty = join(dir, 'empty.gz');
    await writeFile(empty, '');
    const out = join(dir, 'wc-members');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', members, '--input', empty, '--output', out, '--workers', '1', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount([a, b]));
  });

  it("'file' mode: the whole text decompressed, ctx.file the .gz path", async () => {
    const book = inputFiles(BOOKS)[0];
    const gz = join(dir, `${basename(book)}.gz`);
    await writeFile(gz, gzipSync(await readFile(book)));
    const args = ['--set', 'pattern=\\bthe\\b', '--workers', '1', '--quiet'];
    const plain = await runMr(['run', 'jobs/grep.ts', '--input', book, '--output', join(dir, 'grep-plain'), ...args]);
    const zipped = await runMr(['run', 'jobs/grep.ts', '--input', gz, '--output', join(dir, 'grep-gz'), ...args]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(zipped.code, zipped.stderr).toBe(0);
    const expected = (await readParts(join(dir, 'grep-plain')))[0].text.replaceAll(`${basename(book)}:`, `${basename(gz)}:`);
    expect(expected.length).toBeGreaterThan(1000);
    expect((await readParts(join(dir, 'grep-gz')))[0].text).toBe(expected);
  });

  it("'records' mode: key<TAB>value lines from a .gz file", async () => {
    const records = join(dir, 'counts.tsv');
    await writeFile(records, 'apple\t3\nbanana\t7\ncherry\t5\ndate\t1\n');
    await writeFile(`${records}.gz`, gzipSync(await readFile(records)));
    const r = await runMr(['run', 'jobs/topwords.ts', '--input', `${records}.gz`, '--output', join(dir, 'top-gz'), '--set', 'n=2', '--workers', '1', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readParts(join(dir, 'top-gz')))[0].text).toMatch(/^\S+\tbanana 7\n\S+\tcherry 5\n$/);
  });
});

describe('input that is not text', () => {
  it('a binary file is refused before the job runs: exit 2, one line naming it, no output; --binary-ok reads it', async () => {
    const binary = join(dir, 'noise.bin');
    const bytes = Buffer.alloc(20_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    await writeFile(binary, bytes);
    const out = join(dir, 'binary-out');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--input', binary, '--output', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^mr: input file ${binary} looks binary \\(a NUL byte at offset \\d+\\); .*--binary-ok`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await exists(out)).toBe(false);
    const ok = await runMr(['run', 'jobs/wordcount.ts', '--input', binary, '--output', out, '--binary-ok', '--workers', '1', '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount([binary]));
  });

  it('gzip data without the .gz name, and a .gz name without gzip data, are refused with what to do', async () => {
    const hidden = join(dir, 'hidden.txt');
    await writeFile(hidden, gzipSync('some words\n'));
    const fake = join(dir, 'fake.gz');
    await writeFile(fake, 'some words\n');
    const a = await runMr(['run', 'jobs/wordcount.ts', '--input', hidden, '--output', join(dir, 'hidden-out')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^mr: input file \S+hidden\.txt holds gzip data but its name does not end in \.gz; rename it/);
    const b = await runMr(['run', 'jobs/wordcount.ts', '--input', fake, '--output', join(dir, 'fake-out'), '--binary-ok']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^mr: input file \S+fake\.gz is named \.gz but does not hold gzip data/);
  });
});
