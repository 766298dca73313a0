// Workers die: the job still finishes, with the same output, on standalone daemons.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, finished, readParts, recordsOf, removeDir, startMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
let cluster: Cluster | undefined;
beforeAll(async () => {
  dir = await tempDir();
  if (process.env.MR_KEEP_TEST_DIRS) console.log('test dir', dir);
});
afterAll(async () => {
  await cluster?.stop();
  if (!process.env.MR_KEEP_TEST_DIRS) await removeDir(dir);
});

describe('a worker killed with SIGKILL during the reduce phase', () => {
  it('loses its map outputs; they run again and the job ends with the right output', async () => {
    cluster = await startCluster(join(dir, 'cluster'), 3, ['--worker-timeout-ms', '2000', '--lease-ms', '4000']);
    const out = join(dir, 'out');
    const child = startMr(['run', join(FIXTURES, 'slow-reduce.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address, '--reducers', '6']);
    const result = finished(child);
    let stderr = '';
    let killed = false;
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (!killed && /map 8\/8 reduce [0-5]\/6/.test(stderr)) {
        killed = true;
        cluster!.workers[0].kill('SIGKILL');
      }
    });
    const r = await result;
    expect(killed).toBe(true);
    expect(r.stderr).toMatch(/^job job-/m);
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });
});
