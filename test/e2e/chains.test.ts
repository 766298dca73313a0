// Multi-stage jobs: chains of MapReduces into combined lists, and the shipped jobs of the library.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, FIXTURES, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { byteOrder, inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

describe('chains', () => {
  it('wordcount then combine: one file equal to the sequential count, each stage in its own directory', async () => {
    const out = join(dir, 'combined');
    const r = await runMr(['run', 'jobs/wordcount.ts', 'jobs/combine.ts', '--input', BOOKS, '--output', out, '--reducers', '5', '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['_SUCCESS', 'part-r-00000', 'stage-1', 'stage-2']);
    expect((await readdir(join(out, 'stage-1'))).sort()).toEqual(['_SUCCESS', 'part-r-00000', 'part-r-00001', 'part-r-00002', 'part-r-00003', 'part-r-00004']);
    expect((await readdir(join(out, 'stage-2'))).sort()).toEqual(['_SUCCESS', 'part-r-00000']);
    const reference = referenceWordCount(inputFiles(BOOKS));
    const expected = [...reference].sort(([a], [b]) => byteOrder(a, b)).map(([k, v]) => `${k}\t${v}\n`).join('');
    expect(await readFile(join(out, 'part-r-00000'), 'utf8')).toBe(expected);
    const json = JSON.parse(r.stdout);
    expect(json.stages).toHaveLength(2);
    expect(json.stages[1].reduceTasks).toBe(1); // combine.ts declares reducers: 1, which wins over --reducers
    expect(json.files).toEqual([join(out, 'part-r-00000')]);
  });

  it('wordcount then topwords: the sequential top 100, by count then word', async () => {
    const out = join(dir, 'top');
    const r = await runMr(['run', 'jobs/wordcount.ts', 'jobs/topwords.ts', '--input', BOOKS, '--output', out, '--quiet']);
    expect(r.code).toBe(0);
    const top = [...referenceWordCount(inputFiles(BOOKS))].map(([w, c]) => [w, Number(c)] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 100);
    const expected = top.map(([w, c], i) => `${String(i + 1).padStart(3, '0')}\t${w} ${c}\n`).join('');
    expect(await readFile(join(out, 'part-r-00000'), 'utf8')).toBe(expected);
  });

  it('a second stage that throws stops the chain with exit 1, naming the stage; stage 1 stays intact', async () => {
    const out = join(dir, 'broken-chain');
    const r = await runMr(['run', 'jobs/wordcount.ts', join(FIXTURES, 'throws-in-reduce.ts'), '--input', BOOKS, '--output', out, '--reducers', '2', '--quiet']);
    expect(r.code).toBe(1);
    const [error, ...attempt] = r.stderr.trim().split('\n');
    expect(error).toMatch(/^mr: job failed: stage 2 reduce task \d failed 4 times.*stage two is broken \(at .*throws-in-reduce\.ts:\d+:\d+\)$/);
    expect(attempt).toEqual([expect.stringMatching(/^mr: attempt \S+\.s2\.reduce-\d\.a4 \(s2\.reduce-\d on \S+\) printed nothing$/), expect.stringMatching(/^mr: every attempt's log: mr logs /)]);
    expect((await readdir(join(out, 'stage-1'))).sort()).toEqual(['_SUCCESS', 'part-r-00000', 'part-r-00001']);
    expect(recordsOf(await readParts(join(out, 'stage-1')))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    expect((await readdir(out)).sort()).toEqual(['stage-1']); // the failed stage's directory is gone with its files
  });

  it('records mode gives values back as written: tabs, unicode, JSON', async () => {
    const input = join(dir, 'records.txt');
    const records = ['b\tplain', 'a\ttab\tinside\tvalue', 'ünï\t日本語 ✓ 😀', 'json\t{"x":[1,"two",{"y":null}]}', 'empty\t'];
    await writeFile(input, records.join('\n') + '\n');
    const out = join(dir, 'records-out');
    const r = await runMr(['run', 'jobs/combine.ts', '--input', input, '--output', out, '--quiet']);
    expect(r.code).toBe(0);
    const expected = [...records].sort((x, y) => byteOrder(x.split('\t')[0], y.split('\t')[0])).join('\n') + '\n';
    expect(await readFile(join(out, 'part-r-00000'), 'utf8')).toBe(expected);
  });
});

describe('the library', () => {
  it('sort: globally sorted across files, no reducer past twice its share on skewed keys', async () => {
    const input = join(dir, 'skewed.txt');
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const lines = Array.from({ length: 40_000 }, (_, i) => `${random() < 0.8 ? 'aaa' : String.fromCharCode(98 + Math.floor(random() * 25))}${Math.floor(random() * 1e9).toString(36)}-${i}`);
    await writeFile(input, lines.join('\n') + '\n');
    const out = join(dir, 'sorted');
    const r = await runMr(['run', 'jobs/sort.ts', '--input', input, '--output', out, '--reducers', '8', '--quiet']);
    expect(r.code).toBe(0);
    const parts = await readParts(out);
    const keys = parts.flatMap((p) => p.text.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf('\t'))));
    expect(keys).toEqual([...lines].sort(byteOrder));
    for (const part of parts) expect(part.text.split('\n').filter(Boolean).length).toBeLessThanOrEqual(2 * (lines.length / 8));
  });

  it('grep: matching lines keyed by file and line number, in order; no pattern is a usage error', async () => {
    const out = join(dir, 'grep');
    const r = await runMr(['run', 'jobs/grep.ts', '--input', BOOKS, '--output', out, '--set', 'pattern=\\bwhale', '--set', 'flags=i', '--quiet']);
    expect(r.code).toBe(0);
    const expected: string[] = [];
    for (const file of inputFiles(BOOKS)) {
      (await readFile(file, 'utf8')).split('\n').forEach((line, i) => {
        const text = line.replace(/\r$/, '');
        if (/\bwhale/i.test(text)) expected.push(`${basename(file)}:${String(i + 1).padStart(9, '0')}\t${text}\n`);
      });
    }
    expect(expected.length).toBeGreaterThan(0);
    expect((await readParts(out)).map((p) => p.text).join('')).toBe(expected.join(''));
    const missing = await runMr(['run', 'jobs/grep.ts', '--input', BOOKS, '--output', join(dir, 'grep2')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs a pattern/);
  });

  it('bigrams: the combiner cuts what is shuffled, and the counts are right', async () => {
    const out = join(dir, 'bigrams');
    const r = await runMr(['run', 'jobs/bigrams.ts', '--input', BOOKS, '--output', out, '--json', '--quiet']);
    expect(r.code).toBe(0);
    const counters = JSON.parse(r.stdout).stages[0].counters;
    expect(counters['combine.outputRecords']).toBeLessThan(counters['combine.inputRecords']);
    const pairs = new Map<string, number>();
    for (const file of inputFiles(BOOKS)) {
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        const words = (line.match(/\p{L}+/gu) ?? []).map((w) => w.toLowerCase());
        for (let i = 1; i < words.length; i++) pairs.set(`${words[i - 1]} ${words[i]}`, (pairs.get(`${words[i - 1]} ${words[i]}`) ?? 0) + 1);
      }
    }
    expect(recordsOf(await readParts(out))).toEqual(new Map([...pairs].map(([k, v]) => [k, String(v)])));
  });
});
