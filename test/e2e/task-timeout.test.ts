// Attempts that stall or run out of memory, through the real CLI: each is killed, fails with its
// reason (the task timeout, or out of memory with the heap limit and how to raise it), and is
// retried like any failed attempt: a job whose every attempt stalls fails (exit 1) with that
// reason in its error line and in mr logs; one whose first attempt stalls finishes with its output.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, finished, readParts, recordsOf, removeDir, runMr, startMr, tempDir } from '../helpers/run-mr.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';

const LINES = ['alpha', 'be', 'gamma delta', 'e', 'the quick brown fox', 'zz', 'last line'];
let dir: string;
let input: string;
let runs = 0;

beforeAll(async () => {
  dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.txt'), `${LINES.join('\n')}\n`);
  input = join(dir, 'in', '*.txt');
});

afterAll(async () => {
  await removeDir(dir);
});

/** What the fixtures compute: the number of lines per line length modulo 3. */
function expected(): Map<string, string> {
  const counts = new Map<string, number>();
  for (const line of LINES) counts.set(String(line.length % 3), (counts.get(String(line.length % 3)) ?? 0) + 1);
  return new Map([...counts].map(([k, n]) => [k, String(n)]));
}

async function run(fixture: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const output = join(dir, `out-${runs++}`);
  const result = await runMr(['run', join(FIXTURES, fixture), '--input', input, '--output', output, '--reducers', '1', '--no-speculation', ...args], { env });
  return { ...result, output };
}

async function markerDir(): Promise<string> {
  const marker = join(dir, `marker-${runs++}`);
  await mkdir(marker);
  return marker;
}

const STALLED = /map 0 attempt \S+ made no progress for 2 s \(task timeout, --task-timeout\); killed/;

describe('task timeout', () => {
  it('fails a job whose map never finishes loading (an async stall, heartbeats going on) with the reason', async () => {
    const result = await run('stalls-async.ts', ['--workers', '1', '--task-timeout', '2', '--max-attempts', '2']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/failed 2 times; last error: /);
    expect(result.stderr).toMatch(STALLED);
  });

  it('retries an attempt that stalled asynchronously; the retry elsewhere succeeds', async () => {
    const result = await run('stalls-async.ts', ['--workers', '2', '--task-timeout', '2'], { STALL_ONCE_DIR: await markerDir() });
    expect(result.code, result.stderr).toBe(0);
    expect(recordsOf(await readParts(result.output))).toEqual(expected());
  });

  it('fails a job whose map spins in while (true) (event loop blocked, no heartbeats) with the reason', async () => {
    const result = await run('busy-loop.ts', ['--workers', '1', '--task-timeout', '2', '--max-attempts', '2']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/failed 2 times; last error: /);
    expect(result.stderr).toMatch(STALLED);
  });

  it('retries an attempt that spun; the retry succeeds with the right output', async () => {
    const result = await run('busy-loop.ts', ['--workers', '1', '--task-timeout', '2', '--set', `markerDir=${await markerDir()}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(recordsOf(await readParts(result.output))).toEqual(expected());
  });

  it('refuses a bad --task-timeout before anything starts', async () => {
    const result = await run('busy-loop.ts', ['--task-timeout', '-1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mr: --task-timeout must be a number >= 0, got '-1'/);
  });
});

describe('out of memory', () => {
  it('fails a job whose map exhausts the heap, saying so, with the limit and how to raise it', async () => {
    const result = await run('eats-memory.ts', ['--workers', '1', '--worker-heap-mib', '48', '--max-attempts', '2']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/failed 2 times; last error: map 0 attempt \S+ ran out of memory \(the worker heap limit is 48 MiB\); raise it with mr run --worker-heap-mib <MiB> or MR_WORKER_NODE_ARGS=--max-old-space-size=<MiB>$/m);
    expect(result.stderr).not.toMatch(/SIGABRT/);
  });

  it('retries an attempt that ran out of memory; the retry succeeds', async () => {
    const result = await run('eats-memory.ts', ['--workers', '1', '--worker-heap-mib', '48', '--set', `markerDir=${await markerDir()}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(recordsOf(await readParts(result.output))).toEqual(expected());
  });
});

describe('mr logs on a master daemon', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(join(dir, 'cluster'), 1, ['--task-timeout', '2']);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('shows the reason of each stalled attempt, and the job fails with it', async () => {
    const output = join(dir, 'out-daemon');
    const result = await runMr(['run', join(FIXTURES, 'stalls-async.ts'), '--input', input, '--output', output, '--reducers', '1',
      '--max-attempts', '2', '--master', cluster.address]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(STALLED);
    const jobId = /job (\S+)/.exec(result.stderr)![1];
    const logs = await runMr(['logs', jobId, '--master', cluster.address, '--json']);
    expect(logs.code, logs.stderr).toBe(0);
    const attempts = (JSON.parse(logs.stdout) as { attempts: { task: string; state: string; error: string }[] }).attempts;
    const maps = attempts.filter((a) => a.task === 's1.map-0');
    expect(maps.map((a) => a.state)).toEqual(['failed', 'failed']);
    for (const a of maps) expect(a.error).toMatch(STALLED);
  });
});

describe('a worker daemon killed by its watchdog', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // The master gives a silent worker up sooner than the task timeout: the attempt is first dropped
    // as lost. 2 s, not less: the restarted worker must report why within it on a loaded machine.
    cluster = await startCluster(join(dir, 'cluster-watchdog'), 1, ['--task-timeout', '3', '--worker-timeout-ms', '2000']);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('tells the master why once restarted on its work dir; the attempt fails with the reason', async () => {
    const output = join(dir, 'out-watchdog');
    const run = startMr(['run', join(FIXTURES, 'busy-loop.ts'), '--input', input, '--output', output, '--reducers', '1',
      '--max-attempts', '1', '--master', cluster.address]);
    const result = finished(run);
    const [worker] = cluster.workers;
    const signal = await new Promise((resolve) => worker.once('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    cluster.addWorker(join(dir, 'cluster-watchdog', 'worker-0'));
    const { code, stderr } = await result;
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/failed 1 times; last error: map 0 attempt \S+ made no progress for 3 s \(task timeout, --task-timeout\); killed/);
  });
});
