// Standalone daemons: `mr run --master` submits and follows; status, list, logs and kill.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, finished, readParts, recordsOf, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
let cluster: Cluster;
beforeAll(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir, 'cluster'), 2);
});
afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

const mr = (...args: string[]) => runMr([...args, '--master', cluster.address]);

describe('mr run --master and the operations commands', () => {
  it('runs a job on the daemons, then status and list report it', async () => {
    const out = join(dir, 'wordcount');
    const r = await mr('run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--quiet');
    expect(r.code).toBe(0);
    const jobId = /^job (\S+)$/m.exec(r.stderr)?.[1];
    expect(jobId).toBeTruthy();
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    const status = await mr('status', jobId!, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).jobs[0]).toMatchObject({ id: jobId, state: 'succeeded', stage: 1, mapDone: 8, mapTotal: 8, reduceDone: 4, reduceTotal: 4, outputDir: out });
    const list = await mr('list', '--json');
    expect(JSON.parse(list.stdout).jobs.map((j: { id: string }) => j.id)).toContain(jobId);
    const text = await mr('status');
    expect(text.stdout).toContain(jobId);
  });

  it('runs a chain on the daemons; status shows the stage it is in', async () => {
    const out = join(dir, 'chain');
    const follower = startMr(['run', 'jobs/wordcount.ts', join(FIXTURES, 'slow-combine.ts'), '--input', BOOKS, '--output', out,
      '--master', cluster.address, '--reducers', '2', '--quiet']);
    const result = finished(follower);
    const [, jobId] = await stderrMatch(follower, /^job (\S+)$/m);
    let sawStage2 = false;
    for (let i = 0; i < 200 && !sawStage2; i++) {
      const job = JSON.parse((await mr('status', jobId, '--json')).stdout).jobs[0];
      expect(job.stageCount).toBe(2);
      sawStage2 = job.stage === 2;
      if (job.state !== 'running' && job.state !== 'queued') break;
    }
    expect(sawStage2).toBe(true);
    expect((await result).code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });

  it('logs show every attempt of a failing task, its error and what the job printed', async () => {
    const r = await mr('run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', join(dir, 'failing'), '--quiet');
    expect(r.code).toBe(1);
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const logs = await mr('logs', jobId, '--task', 'map-6', '--json');
    expect(logs.code).toBe(0);
    const attempts = JSON.parse(logs.stdout).attempts;
    expect(attempts).toHaveLength(4);
    for (const a of attempts) {
      expect(a).toMatchObject({ task: 's1.map-6', state: 'failed' });
      expect(a.error).toContain('no Holmes allowed');
      expect(a.log).toContain('about to fail on:');
    }
    expect(new Set(attempts.map((a: { workerId: string }) => a.workerId)).size).toBe(2); // retried on the other worker
  });

  it('kill stops a running job and leaves no output; the follower exits 1', async () => {
    const out = join(dir, 'killed');
    const follower = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address, '--quiet']);
    const result = finished(follower);
    const [, jobId] = await stderrMatch(follower, /^job (\S+)$/m);
    const rival = await mr('run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--quiet'); // the same, still empty, output
    expect(rival.code).toBe(2);
    expect(rival.stderr).toContain(`is being written by job ${jobId}`);
    const kill = await mr('kill', jobId);
    expect(kill.code).toBe(0);
    expect(kill.stdout).toContain(`killed ${jobId}`);
    const r = await result;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/killed/);
    const status = JSON.parse((await mr('status', jobId, '--json')).stdout).jobs[0];
    expect(status.state).toBe('killed');
    await expect(readdir(out)).rejects.toThrow(/ENOENT/); // the master made it for this job, and removed it
  });

  it('an unknown job is a usage error', async () => {
    expect((await mr('status', 'no-such-job')).code).toBe(2);
  });

  it('SIGTERM stops a worker and the master cleanly (exit 0)', async () => {
    const worker = cluster.workers[1];
    const workerExit = new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await workerExit).toBe(0);
    const masterExit = new Promise((resolve) => cluster.master.once('exit', (code) => resolve(code)));
    cluster.master.kill('SIGTERM');
    expect(await masterExit).toBe(0);
  });

  it('an unreachable master exits 3', async () => {
    const r = await runMr(['status', '--master', '127.0.0.1:1']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
