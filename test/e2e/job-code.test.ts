// The code a job runs is the code that was submitted: daemons that ran a job before run the
// edited file (and what it imports) when it is submitted again, and an edit made after
// submission fails the job instead of mixing two versions. A user's error names their file and line.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let cluster: Cluster;
beforeAll(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir, 'cluster'), 2);
  await writeFile(join(dir, 'in.txt'), 'a\nb\nc\n');
});
afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

/** A job whose map emits what its helper module says, and throws on the line 'boom'. */
async function writeJob(version: string): Promise<string> {
  await writeFile(join(dir, 'helper.ts'), `export const VERSION: string = '${version}';\n`);
  const job = join(dir, 'ver.ts');
  await writeFile(job, [
    `import { defineJob } from 'mr';`,
    `import { VERSION } from './helper.ts';`,
    `export default defineJob({`,
    `  map(line, emit) {`,
    `    if (line === 'boom') throw new Error('boom at ' + VERSION);`,
    `    emit('v', VERSION);`,
    `  },`,
    `  reduce(_key, values) { return [...new Set(values)].join(','); },`,
    `  reducers: 1,`,
    `});`,
  ].join('\n'));
  return job;
}

const run = (job: string, out: string, input = join(dir, 'in.txt'), ...more: string[]) =>
  runMr(['run', job, '--input', input, '--output', join(dir, out), '--master', cluster.address, '--quiet', '--max-attempts', '1', ...more]);

describe('job code', () => {
  it('daemons run an edited job, and an edited import, as submitted', async () => {
    const job = await writeJob('v1');
    expect((await run(job, 'o1')).code).toBe(0);
    expect(await readFile(join(dir, 'o1', 'part-r-00000'), 'utf8')).toBe('v\tv1\n');
    await writeJob('v2');
    const second = await run(job, 'o2');
    expect(second.code).toBe(0);
    expect(await readFile(join(dir, 'o2', 'part-r-00000'), 'utf8')).toBe('v\tv2\n');
  });

  it('a throwing map names the input line and the user\'s file and line', async () => {
    const job = await writeJob('v3');
    const input = join(dir, 'boom.txt');
    await writeFile(input, 'fine\nfine\nboom\nfine\n');
    const r = await run(job, 'o3', input);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('boom at v3');
    expect(r.stderr).toMatch(/line 3 \(byte 10\)/);
    expect(r.stderr).toContain(`${job}:5:`);
  });
});
