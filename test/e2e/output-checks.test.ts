// --output is checked (really written) before any master or worker starts, and a run that fails
// or is interrupted leaves nothing behind that it created: no output directory, no worker, no temp dir.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BOOKS, FIXTURES, finished, removeDir, runMr, startMr, tempDir } from '../helpers/run-mr.ts';
import { descendants, signalTwice, stderrShows, stillRunning, workerChildren } from '../helpers/processes.ts';
import { startCluster } from '../helpers/cluster.ts';

let dir: string;
let book: string;
beforeAll(async () => {
  dir = await tempDir();
  book = join(dir, 'book.txt');
  await writeFile(book, 'It was the best of times, it was the worst of times.\n');
});
afterAll(() => removeDir(dir));

/** A TMPDIR of the test's own, so that the temp dirs a run makes (mr-run-*) can be counted. */
async function privateTmp(name: string): Promise<string> {
  const tmp = join(dir, `tmp-${name}`);
  await mkdir(tmp);
  return tmp;
}

async function runDirs(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => name.startsWith('mr-run-'));
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('an output directory that cannot be written', () => {
  const cases: [string, (d: string) => Promise<string>, RegExp][] = [
    ['under /proc', async () => '/proc/mr-x', /^mr: cannot use output directory \/proc\/mr-x: \/proc is on proc, not a regular file system/],
    ['under /sys', async () => '/sys/mr-x/out', /^mr: cannot use output directory \/sys\/mr-x\/out: \/sys is on sysfs, not a regular file system/],
    ['whose parent is a file', async (d) => {
      await writeFile(join(d, 'plain'), 'x');
      return join(d, 'plain', 'out');
    }, /^mr: cannot create output directory \S+\/plain\/out: \S+\/plain is a file, not a directory/],
  ];
  for (const [name, outputOf, message] of cases) {
    it(`${name}: exit 2 with one line naming it, and no worker started`, async () => {
      const tmp = await privateTmp(name.replace(/\W+/g, '-'));
      const output = await outputOf(dir);
      const r = await runMr(['run', 'jobs/wordcount.ts', '--input', book, '--output', output, '--workers', '1'], { env: { TMPDIR: tmp } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(await runDirs(tmp)).toEqual([]); // mr run makes its work dir before it starts a master
      expect(await exists(output)).toBe(false);
    });
  }
});

describe('an output directory that is not empty', () => {
  it("is refused with exit 2, and a previous run's files in it are left as they are", async () => {
    const taken = join(dir, 'previous-run');
    await mkdir(taken);
    await writeFile(join(taken, 'part-r-00000'), 'word\t1\n');
    await writeFile(join(taken, '_SUCCESS'), '');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', book, '--output', taken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mr: output directory \S+ is not empty \(2 entries\)/);
    expect((await readdir(taken)).sort()).toEqual(['_SUCCESS', 'part-r-00000']);
  });
});

describe('a job that fails', () => {
  it('removes the output directory and the parents it created', async () => {
    const base = join(dir, 'made-by-run');
    const r = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', join(base, 'deep', 'out'),
      '--workers', '1', '--max-attempts', '1', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Holmes allowed/);
    expect(await exists(base)).toBe(false);
  });

  it('leaves an empty output directory the user made, empty', async () => {
    const mine = join(dir, 'made-by-user');
    await mkdir(mine);
    const r = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', mine, '--workers', '1', '--max-attempts', '1', '--quiet']);
    expect(r.code).toBe(1);
    expect(await readdir(mine)).toEqual([]);
  });

  it('closes its input files: no FileHandle is left for the garbage collector (DEP0137)', async () => {
    // The memory transport runs the maps inside mr run, so Node's warnings reach its stderr;
    // the fixture collects garbage before each throw, after the previous attempt failed.
    const r = await runMr(['run', join(FIXTURES, 'throws-in-map-gc.ts'), '--input', join(FIXTURES, '..', '..', 'datasets', 'gutenberg', 'pg-sherlock_holmes.txt'),
      '--output', join(dir, 'gc'), '--transport', 'memory', '--workers', '1', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Holmes allowed/);
    expect(r.stderr).not.toMatch(/DEP0137|Closing file descriptor/);
  });
});

describe('a job that fails on a running master (mr run --master)', () => {
  it('leaves no output directory when the master created it, and an empty one the user made, empty', async () => {
    const cluster = await startCluster(join(dir, 'cluster'), 1);
    onTestFinished(() => cluster.stop());
    const made = join(dir, 'by-master', 'out');
    const mine = join(dir, 'by-user-for-master');
    await mkdir(mine);
    for (const out of [made, mine]) {
      const r = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address, '--max-attempts', '1', '--quiet']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no Holmes allowed/);
    }
    expect(await exists(join(dir, 'by-master'))).toBe(false); // parents too: the master made them for this job
    expect(await readdir(mine)).toEqual([]);
  });
});

describe('SIGTERM during a job', () => {
  it('kills the job, stops every worker and removes its temp dirs and the output it created', async () => {
    const tmp = await privateTmp('sigterm');
    const out = join(dir, 'terminated', 'out');
    const child = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', out, '--workers', '2'], { env: { TMPDIR: tmp } });
    const result = finished(child);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await stderrShows(child, /map 0\/\d+/);
    const workers = await workerChildren(child.pid!, 2);
    expect(workers).toHaveLength(2);
    expect(await runDirs(tmp)).toHaveLength(1);
    const all = descendants(child.pid!);
    child.kill('SIGTERM');
    const r = await result;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/killed/);
    expect(await stillRunning(all)).toEqual([]);
    expect(await runDirs(tmp)).toEqual([]);
    expect(await exists(join(dir, 'terminated'))).toBe(false);
  });

  it('a second SIGTERM exits at once, and still leaves no worker, no temp dir and no output directory', async () => {
    const tmp = await privateTmp('sigterm-twice');
    const child = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', join(dir, 'terminated-twice', 'out'), '--workers', '2'], { env: { TMPDIR: tmp } });
    const result = finished(child);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await stderrShows(child, /map 0\/\d+/);
    const all = descendants(child.pid!);
    await signalTwice(child, 'SIGTERM');
    const r = await result;
    expect(r.code).toBe(1);
    expect(await stillRunning(all)).toEqual([]);
    expect(await runDirs(tmp)).toEqual([]);
    expect(await exists(join(dir, 'terminated-twice'))).toBe(false); // the output it made too, and its parent
    expect(await readdir(dir)).not.toContain('.terminated-twice.mr-claim');
  });
});
