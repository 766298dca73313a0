// The job history of a plain `mr run` (its own master): after the run, `mr logs`, `mr status` and
// `mr list` without --master read what the job printed and how it ended; a failed job's run shows
// what its failing attempt printed; a finished job shows no task running; the history stays bounded.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveJobRecord, listJobStatuses } from '../../src/storage/job-history.ts';
import type { JobStatus } from '../../src/wires/messages.ts';
import { FIXTURES, finished, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.txt'), 'PRINT alpha\nplain\n');
  await mkdir(join(dir, 'holmes'));
  await writeFile(join(dir, 'holmes', 'h.txt'), 'Sherlock Holmes\n');
  await mkdir(join(dir, 'beside'));
  await writeFile(join(dir, 'beside', 'a.txt'), 'SLOW\n');
  await writeFile(join(dir, 'beside', 'b.txt'), 'FAIL\n');
  await mkdir(join(dir, 'slow'));
  await writeFile(join(dir, 'slow', 'a.txt'), 'line\n'.repeat(5000));
});

afterAll(async () => {
  await removeDir(dir);
});

/** `mr` with its history in home (MR_HOME), and no --master anywhere. */
function mrAt(home: string, ...args: string[]) {
  return runMr(args, { env: { MR_HOME: home } });
}

describe('job history of a plain mr run', () => {
  it('mr logs, mr status and mr list without --master show a finished job; nothing of it lands in --output', async () => {
    const home = join(dir, 'home-ok');
    const out = join(dir, 'out-ok');
    const r = await mrAt(home, 'run', join(FIXTURES, 'prints-in-map.ts'), '--input', join(dir, 'in', '*.txt'), '--output', out, '--workers', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const jobId = JSON.parse(r.stdout).jobId as string;
    expect((await readdir(out)).every((name) => name === '_SUCCESS' || name.startsWith('part-r-'))).toBe(true);
    expect(await readdir(join(home, 'history'))).toEqual([jobId]);

    const logs = await mrAt(home, 'logs', jobId);
    expect(logs.code, logs.stderr).toBe(0);
    for (const line of ['raw stderr from map: PRINT alpha', 'raw stdout from map: PRINT alpha', 'console.error from map: PRINT alpha']) {
      expect(logs.stdout).toContain(line);
    }
    const one = await mrAt(home, 'logs', jobId, '--task', 'map-0', '--json');
    expect(one.code, one.stderr).toBe(0);
    const { attempts } = JSON.parse(one.stdout);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ task: 's1.map-0', state: 'succeeded' });
    expect(attempts[0].log).toContain('console.error from map: PRINT alpha');

    const status = await mrAt(home, 'status', jobId);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${jobId}\\s+succeeded`));
    const json = await mrAt(home, 'status', jobId, '--json');
    expect(JSON.parse(json.stdout).jobs[0]).toMatchObject({ id: jobId, state: 'succeeded', mapDone: 1, mapTotal: 1, outputDir: out });
    const list = await mrAt(home, 'list', '--json');
    expect(JSON.parse(list.stdout).jobs.map((j: { id: string }) => j.id)).toEqual([jobId]);
  });

  it("mr run's last line names the job, for mr logs after the run", async () => {
    const home = join(dir, 'home-line');
    const r = await mrAt(home, 'run', join(FIXTURES, 'prints-in-map.ts'), '--input', join(dir, 'in', '*.txt'), '--output', join(dir, 'out-line'), '--workers', '1');
    expect(r.code, r.stderr).toBe(0);
    const jobId = /^mr: done in .* \(job (\S+)\)$/m.exec(r.stderr)![1];
    const logs = await mrAt(home, 'logs', jobId);
    expect(logs.stdout).toContain('console.error from map: PRINT alpha');
  });

  it('a job id in no history: one line, exit 2', async () => {
    const home = join(dir, 'home-ok');
    for (const command of ['logs', 'status']) {
      const r = await mrAt(home, command, 'job-unknown');
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^mr: no job job-unknown in the history/);
    }
  });

  it('a failed job: mr run prints its failing attempt\'s last lines under the error (also with --quiet), --json carries them', async () => {
    const home = join(dir, 'home-fail');
    const r = await mrAt(home, 'run', join(FIXTURES, 'throws-in-map.ts'), '--input', join(dir, 'holmes', '*.txt'), '--output', join(dir, 'out-fail'), '--workers', '2', '--quiet');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^mr: job failed: stage 1 map task 0 failed 4 times; .*no Holmes allowed/);
    expect(lines[1]).toMatch(/^mr: the last 1 line\(s\) that attempt \S+\.s1\.map-0\.a4 \(s1\.map-0 on \S+\) printed:$/);
    expect(lines[2]).toBe('  about to fail on: Sherlock Holmes');
    const jobId = /^mr: every attempt's log: mr logs (\S+)$/.exec(lines[3])![1];
    expect(lines).toHaveLength(4);

    const logs = await mrAt(home, 'logs', jobId, '--json');
    const attempts = JSON.parse(logs.stdout).attempts as { state: string; log: string }[];
    expect(attempts.map((a) => a.state)).toEqual(['failed', 'failed', 'failed', 'failed']);
    const status = await mrAt(home, 'status', jobId, '--json');
    expect(JSON.parse(status.stdout).jobs[0]).toMatchObject({ id: jobId, state: 'failed' });

    const json = await mrAt(home, 'run', join(FIXTURES, 'throws-in-map.ts'), '--input', join(dir, 'holmes', '*.txt'), '--output', join(dir, 'out-fail-json'), '--workers', '2', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).failedAttempt).toMatchObject({ task: 's1.map-0', lastLines: ['about to fail on: Sherlock Holmes'], error: expect.stringContaining('no Holmes allowed') });
    expect(json.stderr).not.toContain('about to fail on');
  });

  it('a job that failed while another attempt ran: its status shows no task running', async () => {
    const home = join(dir, 'home-beside');
    const markerDir = join(dir, 'markers');
    await mkdir(markerDir);
    const r = await mrAt(home, 'run', join(FIXTURES, 'fails-beside-running.ts'), '--input', join(dir, 'beside', '*.txt'), '--output', join(dir, 'out-beside'),
      '--workers', '2', '--max-attempts', '1', '--set', `markerDir=${markerDir}`, '--json');
    expect(r.code, r.stderr).toBe(1);
    const { jobId, failedAttempt } = JSON.parse(r.stdout);
    expect(failedAttempt).toMatchObject({ task: 's1.map-1', lastLines: ['failing while SLOW runs'] });
    const status = await mrAt(home, 'status', jobId);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('stage 1: map 0/2 done, 0 running; reduce 0/4 done, 0 running');
    expect(status.stdout).not.toMatch(/[1-9]\d* running/);
    const [job] = JSON.parse((await mrAt(home, 'status', jobId, '--json')).stdout).jobs;
    expect(job).toMatchObject({ state: 'failed', stages: [{ mapRunning: 0, reduceRunning: 0 }] });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('a run interrupted with %s keeps the killed job in the history', async (signal) => {
    const home = join(dir, `home-${signal}`);
    const child = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'slow', '*.txt'), '--output', join(dir, `out-${signal}`), '--workers', '1', '--set', 'lineMs=5'],
      { env: { MR_HOME: home } });
    const done = finished(child);
    await stderrMatch(child, /map 0\/1/);
    child.kill(signal);
    const r = await done;
    expect(r.code).toBe(1);
    const list = JSON.parse((await mrAt(home, 'list', '--json')).stdout).jobs;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ state: 'killed', stages: [{ mapRunning: 0, reduceRunning: 0 }] });
  });

  it('a history inside --output is refused before anything runs', async () => {
    const out = join(dir, 'out-home');
    const r = await mrAt(join(out, 'home'), 'run', join(FIXTURES, 'prints-in-map.ts'), '--input', join(dir, 'in', '*.txt'), '--output', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mr: the job history \(.*\) lies inside --output .*; set MR_HOME to a directory outside it\n$/);
    await expect(readdir(out)).rejects.toThrow();
  });

  it('keeps the newest jobs only', async () => {
    const history = join(dir, 'bounded');
    const record = (i: number) => ({ status: { jobId: `job-${i}`, state: 'succeeded' } as JobStatus, attempts: [] });
    for (let i = 0; i < 5; i++) await saveJobRecord(history, record(i), 3);
    expect((await listJobStatuses(history)).map((s) => s.jobId)).toEqual(['job-4', 'job-3', 'job-2']); // newest first
    expect((await readdir(history)).sort()).toEqual(['job-2', 'job-3', 'job-4']);
  });
});
