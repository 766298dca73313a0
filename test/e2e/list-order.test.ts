// `mr list` (and `mr status` without a job) show jobs newest first, as the status page does,
// whether they come from a master or from mr run's history.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { ROOT, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let cluster: Cluster | undefined;
beforeAll(async () => {
  dir = await tempDir();
  await writeFile(join(dir, 'in.txt'), 'one two\n');
});
afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

const wordcount = join(ROOT, 'jobs', 'wordcount.ts');

/** Runs the word count `count` times (each to its own output); the job ids, oldest first. */
async function runJobs(count: number, extra: string[], env: NodeJS.ProcessEnv, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await runMr(['run', wordcount, '--input', 'in.txt', '--output', `out-${label}-${i}`, '--workers', '1', '--quiet', '--json', ...extra], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    ids.push((JSON.parse(r.stdout) as { jobId: string }).jobId);
  }
  return ids;
}

async function listed(args: string[], env: NodeJS.ProcessEnv): Promise<{ json: string[]; text: string[]; status: string[] }> {
  const json = await runMr(['list', '--json', ...args], { cwd: dir, env });
  const text = await runMr(['list', ...args], { cwd: dir, env });
  const status = await runMr(['status', ...args], { cwd: dir, env });
  return {
    json: (JSON.parse(json.stdout) as { jobs: { id: string }[] }).jobs.map((job) => job.id),
    text: text.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0]!),
    status: status.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0]!),
  };
}

describe('the order of mr list', () => {
  it("newest first, from mr run's history", async () => {
    const env = { MR_HOME: join(dir, 'home') };
    const ids = await runJobs(3, [], env, 'history');
    expect(await listed([], env)).toEqual({ json: [...ids].reverse(), text: [...ids].reverse(), status: [...ids].reverse() });
  });

  it('newest first, from a master', async () => {
    cluster = await startCluster(join(dir, 'cluster'), 1);
    const master = ['--master', cluster.address];
    const ids = await runJobs(2, master, {}, 'master');
    expect(await listed(master, {})).toEqual({ json: [...ids].reverse(), text: [...ids].reverse(), status: [...ids].reverse() });
  });
});
