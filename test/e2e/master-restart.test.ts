// The master is killed with SIGKILL mid-job and started again on the same address and work dir:
// the workers reconnect, committed tasks are not redone, and the job ends with the same output.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, MR, ROOT, finished, readParts, recordsOf, removeDir, runMr, startMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
let cluster: Cluster;
const others: ReturnType<typeof spawn>[] = [];
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  for (const p of others) p.kill('SIGKILL');
  await cluster?.stop();
  await removeDir(dir);
});

describe('kill -9 of the master mid-job', () => {
  it('is survived: a restarted master resumes the job from its journal', async () => {
    cluster = await startCluster(join(dir, 'cluster'), 2);
    const out = join(dir, 'out');
    // --split-mib makes more map tasks, so that some have committed when the master dies.
    const follower = startMr(['run', join(FIXTURES, 'slow-reduce.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address,
      '--reducers', '4', '--split-mib', '0.25', '--no-speculation']);
    const result = finished(follower);
    let stderr = '';
    await new Promise<void>((resolve) => follower.stderr!.on('data', (d) => {
      stderr += d;
      const m = /map (\d+)\/(\d+)/.exec(stderr.split('\n').reverse().find((l) => l.includes('map ')) ?? '');
      if (m && Number(m[1]) >= 3) resolve();
    }));
    cluster.master.kill('SIGKILL');
    await new Promise((resolve) => cluster.master.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 5000)); // longer than the follower's own call retries
    const restarted = spawn(process.execPath, [MR, 'master', '--listen', cluster.address, '--work-dir', join(dir, 'cluster', 'master')],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    others.push(restarted);
    expect(await new Promise((resolve) => createInterface({ input: restarted.stdout! }).once('line', resolve))).toBe(`listening ${cluster.address}`);
    const r = await result;
    expect(r.stderr).toMatch(/unreachable.*retrying/);
    expect(r.stderr).toMatch(/the master is back/);
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const status = JSON.parse((await runMr(['status', jobId, '--json', '--master', cluster.address])).stdout).jobs[0];
    expect(status.state).toBe('succeeded');
    // Attempts counted by the restarted master: the maps committed before the crash are not among them.
    expect(status.stages[0].mapAttempts).toBeLessThanOrEqual(status.stages[0].mapTotal - 3);
  });
});
