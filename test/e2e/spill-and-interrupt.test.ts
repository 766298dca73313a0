// Memory stays bounded (spilling map output, merging runs from disk), and Ctrl-C leaves nothing behind.
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BOOKS, FIXTURES, MR, ROOT, finished, readParts, recordsOf, removeDir, runMr, startMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceIndex, referenceWordCount } from '../helpers/reference.ts';
import { alive, commandOf, descendants, signalTwice, stderrShows, stillRunning, workerChildren } from '../helpers/processes.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

describe('a map output larger than the sort buffer', () => {
  it('spills sorted runs, merges them, and counts like a sequential count', async () => {
    // One 3.3 MB input cut into 1 MiB splits, each spilling every ~64 KiB of buffered output.
    const corpus = join(dir, 'books.txt');
    const books = inputFiles(BOOKS);
    await writeFile(corpus, (await Promise.all(books.map((f) => readFile(f)))).reduce((a, b) => Buffer.concat([a, b])));
    const out = join(dir, 'spilled');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', corpus, '--output', out, '--reducers', '3', '--workers', '2',
      '--sort-buffer-mib', '0.0625', '--split-mib', '1', '--json', '--quiet']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.stages[0].mapTasks).toBe(4);
    expect(json.stages[0].counters['map.spills']).toBeGreaterThan(4);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount([corpus]));
  });

  it('spills without a combiner too (indexer keeps every value)', async () => {
    const out = join(dir, 'spilled-index');
    const r = await runMr(['run', 'jobs/indexer.ts', '--input', BOOKS, '--output', out, '--reducers', '2', '--sort-buffer-mib', '0.0625', '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).stages[0].counters['map.spills']).toBeGreaterThan(8);
    expect(recordsOf(await readParts(out))).toEqual(referenceIndex(inputFiles(BOOKS)));
  });
});

describe('Ctrl-C during a job', () => {
  it('kills the job, stops every worker process and leaves no output', async () => {
    const out = join(dir, 'interrupted');
    const child = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', out, '--workers', '2']);
    const result = finished(child);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await stderrShows(child, /map 0\/8/);
    const workers = await workerChildren(child.pid!, 2);
    expect(workers).toHaveLength(2);
    const all = descendants(child.pid!);
    child.kill('SIGINT');
    const r = await result;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/killed/);
    // Grandchildren (tsx's esbuild service) go when their parent's pipe closes: give them a moment.
    for (let i = 0; i < 50 && all.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(all.filter(alive).map((pid) => `${pid}: ${commandOf(pid)}`)).toEqual([]);
    const left = await readdir(out).catch(() => [] as string[]);
    expect(left).toEqual([]);
  });
});

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('a second Ctrl-C, or SIGTERM twice as timeout sends it', () => {
  it('a second Ctrl-C exits at once (exit 1), stops every worker and removes the output directory and parents the run made', async () => {
    const base = join(dir, 'twice');
    const child = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', join(base, 'deep', 'out'), '--workers', '2']);
    const result = finished(child);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await stderrShows(child, /map 0\/8/);
    expect(await workerChildren(child.pid!, 2)).toHaveLength(2);
    const all = descendants(child.pid!);
    await signalTwice(child, 'SIGINT');
    const r = await result;
    expect(r.code).toBe(1);
    expect(await stillRunning(all)).toEqual([]);
    expect(await exists(base)).toBe(false);
    expect(await readdir(dir)).not.toContain('.twice.mr-claim');
  });

  it('`timeout` (SIGTERM to mr run, then to its process group) leaves no output directory, claim or worker', async () => {
    const base = join(dir, 'timed-out');
    const child = spawn('timeout', ['4', process.execPath, MR, 'run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', join(base, 'out'), '--workers', '2'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const result = finished(child);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const running = await Promise.race([stderrShows(child, /map 0\/8/).then(() => true), result.then(() => false)]);
    expect(running, 'mr run was going when timeout ended it').toBe(true);
    const all = descendants(child.pid!);
    expect(all.length).toBeGreaterThanOrEqual(3); // mr run and its 2 workers
    const r = await result;
    expect(r.code).toBe(124); // timeout's own: the command was timed out
    expect(await stillRunning(all)).toEqual([]);
    expect(await exists(base)).toBe(false);
    expect(await readdir(dir)).not.toContain('.timed-out.mr-claim');
  });
});
