// One call of a job function that takes longer than the worker timeout: the worker is alive and
// busy, not lost (its liveness thread, or its thread's host, says so for it), on the embedded
// default, on daemons and on the in-process and simulated backends; and a task that takes its
// worker down every time it runs ends its job, with that reason, after --max-attempts.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { startCluster } from '../helpers/cluster.ts';

// A worker silent for 3 s is presumed dead; the slow record holds its worker for 5 s.
const TIMEOUT = ['--worker-timeout-ms', '3000'];
const SLOW = ['--set', 'recordMs=5000', '--no-speculation', '--reducers', '2'];
let dir: string;
let runs = 0;

beforeAll(async () => {
  dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.txt'), 'SLOW one\nthe cat\n');
  await writeFile(join(dir, 'in', 'b.txt'), 'a b c the\n');
});

afterAll(async () => {
  await removeDir(dir);
});

const EXPECTED = new Map([['SLOW', '1'], ['a', '1'], ['b', '1'], ['c', '1'], ['cat', '1'], ['one', '1'], ['the', '2']]);

/** The job's attempts as mr logs --json lists them: each task's attempts and how they ended. */
async function attempts(jobId: string, master: string[] = []): Promise<{ task: string; state: string; error?: string }[]> {
  const logs = await runMr(['logs', jobId, '--json', ...master]);
  expect(logs.code, logs.stderr).toBe(0);
  return (JSON.parse(logs.stdout) as { attempts: { task: string; state: string; error?: string }[] }).attempts;
}

/** The map attempts, as task and state (the whole list in a failure's message). */
function mapStates(list: { task: string; state: string }[]): string[] {
  return list.filter((a) => a.task.includes('map')).map((a) => `${a.task.split('.').pop()} ${a.state}`).sort();
}

function jobIdOf(stderr: string): string {
  return [...stderr.matchAll(/\bjob (job-[0-9a-z-]+)/g)].pop()![1];
}

async function runSlow(args: string[]) {
  const output = join(dir, `out-${runs++}`);
  const result = await runMr(['run', join(FIXTURES, 'slow-record.ts'), '--input', join(dir, 'in', '*.txt'), '--output', output, ...SLOW, ...args]);
  return { ...result, output };
}

describe('a record that takes longer than the worker timeout', () => {
  for (const backend of [['--workers', '2'], ['--transport', 'memory', '--workers', '2'], ['--transport', 'hypercube', '--nodes', '2']]) {
    it(`does not lose its worker: ${backend.join(' ')}`, async () => {
      const result = await runSlow([...backend, ...TIMEOUT]);
      expect(result.code, result.stderr).toBe(0);
      expect(recordsOf(await readParts(result.output))).toEqual(EXPECTED);
      const list = await attempts(jobIdOf(result.stderr));
      expect(mapStates(list), JSON.stringify(list)).toEqual(['map-0 succeeded', 'map-1 succeeded']);
    });
  }

  it('does not lose its worker daemon', async () => {
    const cluster = await startCluster(join(dir, `cluster-${runs++}`), 1, TIMEOUT);
    try {
      const result = await runSlow(['--master', cluster.address]);
      expect(result.code, result.stderr).toBe(0);
      expect(recordsOf(await readParts(result.output))).toEqual(EXPECTED);
      const list = await attempts(jobIdOf(result.stderr), ['--master', cluster.address]);
      expect(mapStates(list), JSON.stringify(list)).toEqual(['map-0 succeeded', 'map-1 succeeded']);
    } finally {
      await cluster.stop();
    }
  });
});

describe('a task that takes down every worker it runs on', () => {
  it('ends the job after --max-attempts losses, naming them', async () => {
    await writeFile(join(dir, 'crash.txt'), 'fine\nCRASH here\n');
    const result = await runMr(['run', join(FIXTURES, 'kills-its-worker.ts'), '--input', join(dir, 'crash.txt'), '--output', join(dir, `out-${runs++}`),
      '--workers', '2', '--max-attempts', '2', '--no-speculation']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/map task 0 was lost with its worker 2 times; last error: map 0 attempt \S+ was lost with its worker \S+ \(its process exited\)/);
  });
});
