// Attempt outcomes through the real CLI: mr status, mr logs and the status page count a job's
// attempts from one record, per job; an attempt lost with its worker, or running when its job ends,
// gets an end (the page's timeline ends with the job); a fetch error ends cleanly.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

interface Attempt { attemptId: string; task: string; workerId: string; state: string; error: string; startedMs: number; endedMs: number }
interface Worker { workerId: string; running: number; succeeded: number; failed: number }
interface Stage { failedAttempts: number; mapAttempts: number; reduceAttempts: number; backupAttempts: number }

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await removeDir(dir);
});

async function json<T>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  const r = await runMr(args, { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** The worker rows of `mr status <job>` (text). */
function workerRows(text: string): Worker[] {
  return [...text.matchAll(/^ {2}worker (\S+) \S* ?(?:alive|dead): (\d+) running, (\d+) succeeded, (\d+) failed/gm)]
    .map(([, workerId, running, succeeded, failed]) => ({ workerId, running: Number(running), succeeded: Number(succeeded), failed: Number(failed) }));
}

const countOf = (attempts: Attempt[], state: string, workerId?: string) =>
  attempts.filter((a) => a.state === state && (workerId === undefined || a.workerId === workerId)).length;

/** What every view must agree on, once the job has ended: the logs' attempts are the one record. */
function expectOneRecord(attempts: Attempt[], stages: Stage[], workers: Worker[]): void {
  expect(attempts.filter((a) => a.state === 'running'), 'no attempt of an ended job runs').toEqual([]);
  for (const a of attempts) expect(a.endedMs, `${a.attemptId} (${a.state}) has an end`).toBeGreaterThanOrEqual(a.startedMs);
  for (const a of attempts) expect(a.endedMs).toBeGreaterThan(0);
  const sum = (key: keyof Stage) => stages.reduce((n, s) => n + s[key], 0);
  expect(sum('failedAttempts'), 'failed attempts: mr status = mr logs').toBe(countOf(attempts, 'failed'));
  expect(sum('mapAttempts') + sum('reduceAttempts'), 'attempts: mr status = mr logs').toBe(attempts.length);
  for (const w of workers) {
    expect({ worker: w.workerId, running: w.running, succeeded: w.succeeded, failed: w.failed }, 'a worker row shows its figures in this job')
      .toEqual({ worker: w.workerId, running: 0, succeeded: countOf(attempts, 'succeeded', w.workerId), failed: countOf(attempts, 'failed', w.workerId) });
  }
}

describe('attempt outcomes on daemons', () => {
  let cluster: Cluster;
  const master = () => ['--master', cluster.address];
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a worker killed (SIGKILL) in the reduce phase: its attempt is lost with an end, every view counts alike, the fetch error ends cleanly', async () => {
    // A worker dies in its first reduce attempt; the master hears of it only after 3 s of silence, so
    // the other worker's reduces meanwhile fail to fetch the map outputs the dead one held.
    const once = join(dir, 'fired');
    cluster = await startCluster(join(dir, 'cluster'), 2, ['--http', '127.0.0.1:0', '--worker-timeout-ms', '3000', '--lease-ms', '6000'], [],
      { MR_FAILPOINTS: 'worker.shuffle.after-first-run=kill', MR_FAILPOINT_ONCE: once });
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'out'), '--reducers', '8', '--no-speculation', '--quiet', ...master()]);
    expect(r.code, r.stderr).toBe(0);
    const victim = Number((await readFile(once, 'utf8')).trim().split(' ')[1]);
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];

    const { attempts } = await json<{ attempts: Attempt[] }>(['logs', jobId, '--json', ...master()]);
    const { jobs: [status] } = await json<{ jobs: { stages: Stage[]; elapsedMs: number }[] }>(['status', jobId, '--json', ...master()]);
    const page = await (await fetch(`http://${cluster.http}/api/jobs/${jobId}`)).json() as { job: { stages: Stage[] }; attempts: Attempt[]; workers: Worker[] };

    const dead = attempts.filter((a) => a.workerId.includes(`-${victim}-`) && a.task.includes('.reduce-'));
    expect(dead.map((a) => a.state), 'the dead worker\'s reduce attempt').toContain('lost');
    const jobEndMs = Math.max(...attempts.filter((a) => a.state === 'succeeded').map((a) => a.endedMs));
    for (const a of attempts) expect(a.endedMs, `${a.attemptId} ends with the job`).toBeLessThanOrEqual(jobEndMs);

    const fetchErrors = attempts.filter((a) => a.error.includes('cannot fetch map output'));
    expect(fetchErrors.length, 'a reduce failed to fetch from the dead worker').toBeGreaterThanOrEqual(1);
    for (const a of attempts) expect(a.error, 'no dangling label').not.toMatch(/Resolution note:\s*$/);

    expect(page.attempts).toEqual(attempts);
    expect(page.job.stages).toEqual(status.stages);
    expectOneRecord(attempts, status.stages, page.workers);
    expect(workerRows((await runMr(['status', jobId, ...master()])).stdout)).toEqual(page.workers.map(({ workerId, running, succeeded, failed }) => ({ workerId, running, succeeded, failed })));
  }, 90_000);

  it("a second job's worker rows show that job's attempts, not every job's", async () => {
    const r = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', join(dir, 'failing'), '--quiet', ...master()]);
    expect(r.code).toBe(1);
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const { attempts } = await json<{ attempts: Attempt[] }>(['logs', jobId, '--json', ...master()]);
    const { jobs: [status] } = await json<{ jobs: { stages: Stage[] }[] }>(['status', jobId, '--json', ...master()]);
    const page = await (await fetch(`http://${cluster.http}/api/jobs/${jobId}`)).json() as { workers: Worker[] };
    expectOneRecord(attempts, status.stages, page.workers);
    const text = (await runMr(['status', jobId, ...master()])).stdout;
    expectOneRecord(attempts, status.stages, workerRows(text));
    expect(workerRows(text)).toHaveLength(2);
  }, 60_000);
});

describe('attempt outcomes in the history of mr run', () => {
  it('an attempt running when its job fails ends with the job, cancelled; mr run --json, mr status and mr logs count alike', async () => {
    const env = { MR_HOME: join(dir, 'home') };
    await mkdir(join(dir, 'beside'));
    await mkdir(join(dir, 'markers'));
    await writeFile(join(dir, 'beside', 'a.txt'), 'SLOW\n');
    await writeFile(join(dir, 'beside', 'b.txt'), 'FAIL\n');
    const r = await runMr(['run', join(FIXTURES, 'fails-beside-running.ts'), '--input', join(dir, 'beside', '*.txt'), '--output', join(dir, 'out-beside'),
      '--workers', '2', '--max-attempts', '1', '--set', `markerDir=${join(dir, 'markers')}`, '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as { jobId: string; elapsedMs: number; stages: Stage[] };
    const { attempts } = await json<{ attempts: Attempt[] }>(['logs', result.jobId, '--json'], env);
    const { jobs: [status] } = await json<{ jobs: { stages: Stage[] }[] }>(['status', result.jobId, '--json'], env);
    const slow = attempts.find((a) => a.task === 's1.map-0')!;
    const failed = attempts.find((a) => a.task === 's1.map-1')!;
    expect(failed.state).toBe('failed');
    expect(slow).toMatchObject({ state: 'cancelled', error: 'the job failed while it ran' });
    // The SLOW attempt's bar ends where the job did, not when its worker was stopped (or never).
    expect(slow.endedMs).toBeGreaterThanOrEqual(failed.endedMs);
    expect(slow.endedMs - slow.startedMs).toBeLessThanOrEqual(result.elapsedMs);
    expect(result.stages.map((s) => s.failedAttempts)).toEqual(status.stages.map((s) => s.failedAttempts));
    const text = (await runMr(['status', result.jobId], { env })).stdout;
    expect(workerRows(text)).toHaveLength(2);
    expectOneRecord(attempts, status.stages, workerRows(text));
  }, 60_000);
});
