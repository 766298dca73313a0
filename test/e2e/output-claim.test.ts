// Two runs given one --output: exactly one claims it, the other is refused (exit 2, one line)
// before it runs, whether they start at the same moment or not, embedded or through masters; a
// claim left by a run that is gone does not block the next one.
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, finished, readParts, recordsOf, removeDir, runMr, startMr, tempDir, type MrResult } from '../helpers/run-mr.ts';
import { inputFiles, referenceIndex, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
let books: string[];
beforeAll(async () => {
  dir = await tempDir();
  books = inputFiles(BOOKS).slice(0, 2);
});
afterAll(() => removeDir(dir));

const CLAIMED = /^mr: output directory \S+ is being (written by job \S+|claimed by another run)/;

/** A word count (4 reducers) and an index (2 reducers) into out at the same moment; extra: args of both. */
async function race(out: string, extra: (which: number) => string[]): Promise<[MrResult, MrResult]> {
  const inputs = books.flatMap((book) => ['--input', book]);
  const children = [
    startMr(['run', 'jobs/wordcount.ts', ...inputs, '--output', out, '--reducers', '4', '--quiet', ...extra(0)]),
    startMr(['run', 'jobs/indexer.ts', ...inputs, '--output', out, '--reducers', '2', '--quiet', ...extra(1)]),
  ];
  return Promise.all(children.map(finished)) as Promise<[MrResult, MrResult]>;
}

/** Exactly one exit 0, one exit 2 with one line; the output is the winner's alone, and no claim is left beside it. */
async function expectOneWinner(out: string, [count, index]: [MrResult, MrResult]): Promise<void> {
  expect([count.code, index.code].sort()).toEqual([0, 2]);
  const [winner, loser] = count.code === 0 ? [count, index] : [index, count];
  const loserLines = loser.stderr.trim().split('\n');
  expect(loserLines.filter((line) => !/^job \S+$/.test(line))).toHaveLength(1); // (with --master: `job <id>` once accepted)
  expect(loser.stderr).toMatch(CLAIMED);
  const reducers = winner === count ? 4 : 2;
  expect((await readdir(out)).sort()).toEqual(['_SUCCESS', ...Array.from({ length: reducers }, (_, r) => `part-r-0000${r}`)]);
  expect(recordsOf(await readParts(out))).toEqual(winner === count ? referenceWordCount(books) : referenceIndex(books));
  expect((await readdir(join(out, '..'))).filter((name) => name.includes('mr-claim'))).toEqual([]);
}

describe('two mr run started together into one output directory', () => {
  it('one claims it and succeeds, the other exits 2 before it runs: new and empty directories, several rounds', async () => {
    for (let round = 0; round < 4; round++) {
      const out = join(dir, `embedded-${round}`, 'out');
      if (round % 2 === 1) await mkdir(out, { recursive: true }); // an empty directory the user made
      await expectOneWinner(out, await race(out, () => ['--workers', '1']));
    }
  });
});

describe('two mr run --master started together into one output directory', () => {
  let clusters: Cluster[] = [];
  beforeAll(async () => {
    clusters = await Promise.all([startCluster(join(dir, 'cluster-a'), 1), startCluster(join(dir, 'cluster-b'), 1)]);
  });
  afterAll(() => Promise.all(clusters.map((cluster) => cluster.stop())));

  it('one job claims it on one master, or across two masters on the same file system; the other exits 2', async () => {
    for (let round = 0; round < 4; round++) {
      const out = join(dir, `daemon-${round}`, 'out');
      // Rounds 0 and 1: both to one master; 2 and 3: one to each.
      const masterOf = (which: number) => clusters[round < 2 ? 0 : which].address;
      await expectOneWinner(out, await race(out, (which) => ['--master', masterOf(which)]));
    }
  });
});

describe('a claim left behind by a run that is gone', () => {
  it('is taken over when its process is gone from this host', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    const pid = gone.pid!;
    await new Promise((resolve) => gone.once('exit', resolve));
    const out = join(dir, 'stale-local');
    await writeFile(join(dir, '.stale-local.mr-claim'), JSON.stringify({ owner: 'job-killed', pid, host: hostname(), sinceMs: Date.now() - 60_000 }));
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', books[0], '--output', out, '--workers', '1', '--quiet']);
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount([books[0]]));
    expect((await readdir(dir)).filter((name) => name.includes('stale-local.mr-claim'))).toEqual([]);
  });

  it("is refused when it is another host's, with one line naming the file to remove", async () => {
    const out = join(dir, 'stale-remote');
    const claim = join(dir, '.stale-remote.mr-claim');
    await writeFile(claim, JSON.stringify({ owner: 'job-elsewhere', pid: 1, host: 'another-host.example', sinceMs: Date.now() }));
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', books[0], '--output', out, '--workers', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(CLAIMED)]);
    expect(r.stderr).toContain(`job job-elsewhere (pid 1 on host another-host.example`);
    expect(r.stderr).toContain(`remove ${claim}`);
    expect((await readdir(dir)).includes('stale-remote')).toBe(false); // nothing created
  });
});
