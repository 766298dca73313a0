// Worker processes crash and stall: the job still ends with the sequential reference's output.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, finished, readParts, recordsOf, removeDir, runMr, startMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
let cluster: Cluster | undefined;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

describe('worker processes that crash', () => {
  it('are replaced, their tasks run again, and the output is the same (embedded mode)', async () => {
    const markerDir = join(dir, 'markers');
    await mkdir(markerDir);
    const out = join(dir, 'crashy');
    const r = await runMr(['run', join(FIXTURES, 'crashy.ts'), '--input', BOOKS, '--output', out, '--workers', '2', '--reducers', '3',
      '--set', 'crashFiles=pg-grimm.txt,pg-dorian_gray.txt,pg-tom_sawyer.txt', '--set', `markerDir=${markerDir}`, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    const stage = JSON.parse(r.stdout).stages[0];
    expect(stage.mapAttempts).toBeGreaterThanOrEqual(stage.mapTasks + 3);
    expect(stage.failedAttempts).toBe(0); // a lost worker is not the task's fault
  });
});

describe('a worker stopped (SIGSTOP) for longer than its lease, then continued', () => {
  it('loses its attempts to others; its late results are rejected; the output is the same', async () => {
    cluster = await startCluster(join(dir, 'cluster'), 2, ['--lease-ms', '1500', '--worker-timeout-ms', '1000']);
    const out = join(dir, 'stopped');
    const follower = startMr(['run', join(FIXTURES, 'straggler.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address,
      '--reducers', '2', '--split-mib', '0.25', '--set', 'slowFile=none', '--set', `markerDir=${dir}`]);
    const result = finished(follower);
    let stderr = '';
    await new Promise<void>((resolve) => follower.stderr!.on('data', (d) => {
      stderr += d;
      if (/map [1-9]\d*\//.test(stderr)) resolve();
    }));
    const stopped = cluster.workers[0];
    stopped.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    stopped.kill('SIGCONT');
    const r = await result;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const { attempts } = JSON.parse((await runMr(['logs', jobId, '--json', '--master', cluster.address])).stdout);
    const states = attempts.map((a: { state: string }) => a.state);
    expect(states.filter((s: string) => s === 'rejected' || s === 'lost').length).toBeGreaterThanOrEqual(1);
  });
});
