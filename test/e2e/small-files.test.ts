// Many small input files: packed into a few map tasks (each line still knows its own file, and
// 'file' mode still gets one call per file), with the same output as one file of the same lines
// and as one map task per file (--no-packing).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles } from '../helpers/reference.ts';

const FILES = 300;
let dir: string;
let smallGlob: string;
let oneFile: string;
let withWords = 0;               // small files holding at least one word

beforeAll(async () => {
  dir = await tempDir();
  const small = join(dir, 'small');
  await mkdir(small);
  const lines = (await readFile(inputFiles(BOOKS)[0], 'utf8')).split('\n').filter((line) => line.trim() !== '').slice(0, FILES * 3);
  for (let i = 0; i < FILES; i++) {
    const text = `${lines.slice(3 * i, 3 * i + 3).join('\n')}\n`;
    if (/\p{L}/u.test(text)) withWords++;
    await writeFile(join(small, `f${String(i).padStart(4, '0')}.txt`), text);
  }
  smallGlob = join(small, '*.txt');
  oneFile = join(dir, 'one.txt');
  await writeFile(oneFile, `${lines.join('\n')}\n`);
});
afterAll(() => removeDir(dir));

async function run(job: string, input: string, out: string, extra: string[] = []): Promise<{ mapTasks: number; text: string; json: { chaos?: Record<string, number> } }> {
  const r = await runMr(['run', job, '--input', input, '--output', join(dir, out), '--workers', '2', '--reducers', '2', '--json', '--quiet', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const parts = await readParts(join(dir, out));
  const json = JSON.parse(r.stdout);
  return { mapTasks: json.stages[0].mapTasks, text: parts.map((part) => part.text).join(''), json };
}

describe('many small files', () => {
  it('are packed into a few map tasks, with the word count of one file holding the same lines', async () => {
    const packed = await run('jobs/wordcount.ts', smallGlob, 'wc-packed');
    const single = await run('jobs/wordcount.ts', oneFile, 'wc-one');
    expect(packed.mapTasks).toBeGreaterThan(1);       // still spread over the workers
    expect(packed.mapTasks).toBeLessThanOrEqual(8);
    expect(packed.text).toBe(single.text);
  });

  it('--no-packing gives one map task per file, and the same output', async () => {
    const unpacked = await run('jobs/wordcount.ts', smallGlob, 'wc-unpacked', ['--no-packing']);
    const packed = await run('jobs/wordcount.ts', smallGlob, 'wc-packed-2');
    expect(unpacked.mapTasks).toBe(FILES);
    expect(unpacked.text).toBe(packed.text);
  });

  it('--no-packing: reducers fetch the many tiny map outputs in batches, exact also when the network loses messages', async () => {
    // 300 map outputs over 2 workers: each reducer fetches some 150 from the other worker, in
    // streams of many outputs each; lost requests, replies and chunks make some batches break
    // and be asked again for the outputs they had not brought whole.
    const single = await run('jobs/wordcount.ts', oneFile, 'wc-one-2');
    const lossy = await run('jobs/wordcount.ts', smallGlob, 'wc-lossy', ['--no-packing', '--chaos', 'drop=0.02', '--chaos-seed', '5']);
    expect(lossy.mapTasks).toBe(FILES);
    expect(lossy.text).toBe(single.text);
    expect(lossy.json.chaos!.droppedRequests + lossy.json.chaos!.droppedReplies).toBeGreaterThan(0);
  });

  it('each line of a packed task knows its own file (ctx.file)', async () => {
    const packed = await run('jobs/indexer.ts', smallGlob, 'index-packed');
    const unpacked = await run('jobs/indexer.ts', smallGlob, 'index-unpacked', ['--no-packing']);
    expect(packed.mapTasks).toBeLessThan(FILES);
    expect(packed.text).toBe(unpacked.text);
    // The file names in the index are the small files', not the first file of each task.
    const named = new Set([...recordsOf([{ text: packed.text }]).values()].flatMap((value) => value.split(' ')[1].split(',')));
    expect(named.size).toBe(withWords);
    expect(withWords).toBeGreaterThan(FILES / 2);
  });

  it("'file' mode still calls map once per file", async () => {
    const options = ['--set', 'pattern=.'];
    const packed = await run('jobs/grep.ts', smallGlob, 'grep-packed', options);
    const unpacked = await run('jobs/grep.ts', smallGlob, 'grep-unpacked', [...options, '--no-packing']);
    expect(packed.mapTasks).toBeLessThan(FILES);
    expect(packed.text).toBe(unpacked.text);
    // Line numbers start again at 1 in every file: one call per file, each with its own ctx.file.
    const firstLines = packed.text.split('\n').filter((line) => /^f\d{4}\.txt:000000001\t/.test(line));
    expect(firstLines).toHaveLength(FILES);
  });
});
