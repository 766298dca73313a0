// Worker processes crash and stall: the job still ends with the sequential reference's output.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, finished, readParts, recordsOf, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
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

/** What test/fixtures/slow-lines.ts computes, sequentially: line length mod 7 -> number of lines. */
async function lineLengthsMod7(files: string[]): Promise<Map<string, string>> {
  const counts = new Map<string, number>();
  for (const file of files) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const line of lines) {
      const key = String(line.replace(/\r$/, '').length % 7);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return new Map([...counts].map(([k, v]) => [k, String(v)]));
}

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

/** The pid of a worker that has an attempt of the job running now. */
async function runningWorkerPid(jobId: string): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const { attempts } = JSON.parse((await runMr(['logs', jobId, '--json', '--master', cluster!.address])).stdout);
    const running = attempts.find((a: { state: string }) => a.state === 'running');
    if (running) return Number(/-(\d+)-[0-9a-f]+$/.exec(running.workerId)![1]);
  }
  throw new Error(`no attempt of ${jobId} was seen running`);
}

describe('a worker stopped (SIGSTOP) for longer than its lease, then continued', () => {
  it('loses its attempts to others; its late results are rejected; the output is the same', async () => {
    cluster = await startCluster(join(dir, 'cluster'), 2, ['--lease-ms', '1500', '--worker-timeout-ms', '1000']);
    const out = join(dir, 'stopped');
    // Slow maps (0.1 ms a line, ~3 s a worker), so that the stopped worker is surely in the middle of one.
    const follower = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address,
      '--reducers', '2', '--split-mib', '0.25', '--set', 'lineMs=0.1']);
    const result = finished(follower);
    const [, jobId] = await stderrMatch(follower, /^job (\S+)$/m);
    // Stop a worker that is surely running an attempt: the worker id names its process (w-<host>-<pid>-<random>).
    const pid = await runningWorkerPid(jobId);
    process.kill(pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    process.kill(pid, 'SIGCONT');
    const r = await result;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(await lineLengthsMod7(inputFiles(BOOKS)));
    const { attempts } = JSON.parse((await runMr(['logs', jobId, '--json', '--master', cluster.address])).stdout);
    // The stopped worker's attempt was taken from it: cancelled when it came back (failed), its late
    // result refused (rejected), or never heard of again (lost). Each such task committed elsewhere.
    const taken = attempts.filter((a: { state: string }) => ['rejected', 'lost', 'failed'].includes(a.state));
    expect(taken.length).toBeGreaterThanOrEqual(1);
    for (const a of taken) {
      expect(attempts.some((b: { task: string; state: string }) => b.task === a.task && b.state === 'succeeded')).toBe(true);
    }
  });
});
