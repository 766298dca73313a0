// Word count and indexer over the books through the real CLI, compared with sequential references.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { byteOrder, inputFiles, referenceIndex, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

/** The shape every successful output must have: R sorted files, disjoint keys, _SUCCESS last, nothing else. */
async function expectWellFormedOutput(out: string, reducers: number): Promise<void> {
  const names = (await readdir(out)).sort();
  const parts = Array.from({ length: reducers }, (_, r) => `part-r-${String(r).padStart(5, '0')}`);
  expect(names).toEqual([...parts, '_SUCCESS'].sort());
  const success = await stat(join(out, '_SUCCESS'));
  for (const part of parts) expect((await stat(join(out, part))).mtimeMs).toBeLessThanOrEqual(success.mtimeMs);
  const seen = new Set<string>();
  for (const { text } of await readParts(out)) {
    const keys = text.split('\n').filter(Boolean).map((line) => line.slice(0, line.indexOf('\t')));
    expect([...keys].sort(byteOrder)).toEqual(keys);
    for (const key of keys) {
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
  }
}

describe('mr run on the gutenberg books', () => {
  it('counts words like a sequential count, over 10 reducers', async () => {
    const out = join(dir, 'wordcount');
    const result = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--reducers', '10', '--workers', '2', '--json']);
    expect(result.stderr).toContain('done');
    expect(result.code).toBe(0);
    await expectWellFormedOutput(out, 10);
    const got = recordsOf(await readParts(out));
    expect(got).toEqual(referenceWordCount(inputFiles(BOOKS)));
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ ok: true, outputDir: out, stages: [{ mapTasks: 8, reduceTasks: 10 }] });
    expect(json.files).toHaveLength(10);
    expect(json.stages[0].counters['reduce.outputRecords']).toBe(got.size);
    // Each process's start-up, on the time line of this mr run: every step after the one before.
    const [master, ...workers] = json.processes;
    expect(master).toMatchObject({ role: 'master', startup: { startedMs: 0 } });
    expect(master.startup.engineMs).toBeLessThanOrEqual(master.startup.readyMs);
    expect(workers).toHaveLength(2);
    for (const { startup } of workers) {
      expect(startup.startedMs).toBeGreaterThanOrEqual(0);
      expect(startup.startedMs).toBeLessThanOrEqual(startup.engineMs);
      expect(startup.engineMs).toBeLessThanOrEqual(startup.readyMs);
      expect(startup.readyMs).toBeLessThanOrEqual(startup.firstTaskMs);
    }
  });

  it('indexes which books hold each word, over 10 reducers', async () => {
    const out = join(dir, 'index');
    const result = await runMr(['run', 'jobs/indexer.ts', '--input', BOOKS, '--output', out, '--reducers', '10', '--workers', '2', '--quiet']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    await expectWellFormedOutput(out, 10);
    expect(recordsOf(await readParts(out))).toEqual(referenceIndex(inputFiles(BOOKS)));
  });

  it('gives the same bytes whatever the worker count', async () => {
    const one = join(dir, 'one-worker');
    const three = join(dir, 'three-workers');
    for (const [out, workers] of [[one, '1'], [three, '3']]) {
      const result = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--reducers', '3', '--workers', workers, '--quiet']);
      expect(result.code).toBe(0);
    }
    expect(await readParts(three)).toEqual(await readParts(one));
  });
});
