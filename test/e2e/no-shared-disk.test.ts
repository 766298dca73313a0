// Hosts that share no disk: the master, the client and four workers each in a network namespace
// and a mount namespace of their own, each with its own empty disk at the same path, nothing
// shared but the network and an object store (s3rver, on the test's address on the bridge). A
// word count and a chain run from the store into the store while a worker's host is killed as the
// reduces start: its map outputs die with its disk and are made again elsewhere, and the output
// is the same bytes as the same job's on one machine. Needs root, `ip netns` and `unshare`;
// skipped with a message otherwise.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hosts, unavailable } from '../helpers/hosts.ts';
import { BOOKS, FIXTURES, runMr, tempDir, removeDir } from '../helpers/run-mr.ts';
import { inputFiles } from '../helpers/reference.ts';
import { S3_ENV, startS3, type TestStore } from '../helpers/s3.ts';
import { until } from '../helpers/until.ts';

const why = unavailable();
if (why) console.warn(`skipping the test of hosts that share no disk: ${why}`);

const BUCKET = 'mr-hosts';
let dir: string;
let disk: string;              // every host's own disk, at this path on each
let hosts: Hosts;
let store: TestStore;
let endpoint: string;
let env: NodeJS.ProcessEnv;
let master: string;

const objectsUnder = (prefix: string) => store.objectsUnder(prefix);

/** The same job on this machine, on disk: its files by name (stage dirs left out), with their text. */
async function onOneMachine(name: string, args: string[]): Promise<Map<string, string>> {
  const out = join(dir, name);
  const r = await runMr(['run', ...args, '--input', BOOKS, '--output', out, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  const files = (await readdir(out)).filter((file) => !file.startsWith('stage-'));
  return new Map(await Promise.all(files.map(async (file) => [file, await readFile(join(out, file), 'utf8')] as [string, string])));
}

/**
 * `mr run <args>` on the client host against the store; the worker host `victim` is killed when
 * the first reduce phase starts. Resolves the run's exit code and its --json summary.
 */
async function runKilling(victim: string, args: string[], to = master): Promise<{ code: number | null; summary: { stages: { mapTasks: number; mapAttempts: number; backupAttempts: number }[] } }> {
  const run = hosts.spawn('client', ['run', ...args, '--master', to, '--s3-endpoint', endpoint, '--json'], env);
  let killed = false;
  createInterface({ input: run.stderr! }).on('line', (line) => {
    if (!killed && / reduce 0\//.test(line)) {
      killed = true;
      hosts.kill(victim);
    }
  });
  let stdout = '';
  run.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
  expect(killed).toBe(true);
  return { code, summary: JSON.parse(stdout) };
}

describe.skipIf(why !== undefined)('hosts that share no disk', () => {
  beforeAll(async () => {
    dir = await tempDir();
    disk = join(dir, 'disk');
    await mkdir(disk);
    hosts = new Hosts(['master', 'client', 'w1', 'w2', 'w3', 'w4', 'lb', 's1', 's2'], disk);
    hosts.setUp();
    store = await startS3(join(dir, 's3'), BUCKET, hosts.gateway);
    endpoint = store.endpoint;
    await store.upload('books/', inputFiles(BOOKS));
    env = { ...process.env, ...S3_ENV, MR_TOKEN: randomBytes(24).toString('base64url') };
    master = await hosts.daemon('master', ['master', '--listen', `${hosts.addressOf('master')}:0`, '--work-dir', join(disk, 'master'),
      // No task timeout: a reducer whose stream from the dead host never ends is not rescued by it.
      '--s3-endpoint', endpoint, '--worker-timeout-ms', '3000', '--task-timeout', '0'], env);
    await Promise.all(['w1', 'w2', 'w3', 'w4'].map((host) => hosts.worker(host, ['--master', master, '--listen-host', hosts.addressOf(host),
      '--work-dir', join(disk, 'work'), '--s3-endpoint', endpoint], env)));
  }, 60_000);
  afterAll(async () => {
    if (process.env.MR_TEST_HOST_LOGS) for (const [host, log] of hosts.logs) console.log(log.map((line) => `${host} ${line}`).join('\n'));
    hosts?.tearDown();
    await store?.close();
    await removeDir(dir);
  });

  it('counts the words of the store into the store while a worker host dies: its map outputs are made again', async () => {
    const job = join(FIXTURES, 'slow-reduce.ts');
    const { code, summary } = await runKilling('w1', [job, '--input', `s3://${BUCKET}/books/*.txt`, '--output', `s3://${BUCKET}/counts/`, '--split-mib', '0.5']);
    expect(code).toBe(0);
    expect(await objectsUnder('counts/')).toEqual(await onOneMachine('counts', [job]));
    // The dead host's map outputs were on its own disk only: some maps ran twice.
    expect(summary.stages[0].mapAttempts).toBeGreaterThan(summary.stages[0].mapTasks);
  }, 120_000);

  it('runs a chain from the store into the store while a worker host dies', async () => {
    const jobs = [join(FIXTURES, 'slow-reduce.ts'), 'jobs/topwords.ts', '--set', 'n=50'];
    const { code } = await runKilling('w2', [...jobs, '--input', `s3://${BUCKET}/books/*.txt`, '--output', `s3://${BUCKET}/chain/`]);
    expect(code).toBe(0);
    const objects = await objectsUnder('chain/');
    expect(new Map([...objects].filter(([name]) => !name.includes('/')))).toEqual(await onOneMachine('chain', jobs));
    expect(objects.has('stage-1/_SUCCESS') && objects.has('stage-2/_SUCCESS')).toBe(true);
  }, 120_000);

  it('runs the horizontal backend with its map outputs in the store, a server host killed as the reduces start', async () => {
    const balancer = await hosts.daemon('lb', ['balancer', '--listen', `${hosts.addressOf('lb')}:0`], env);
    const dispatcher = await hosts.daemon('master', ['master', '--listen', `${hosts.addressOf('master')}:0`, '--work-dir', join(disk, 'dispatcher'),
      '--balancer', balancer, '--shared-dir', `s3://${BUCKET}/shared/`, '--s3-endpoint', endpoint], env);
    for (const host of ['s1', 's2']) {
      await hosts.daemon(host, ['worker', '--join', balancer, '--listen-host', hosts.addressOf(host), '--work-dir', join(disk, 'work'), '--s3-endpoint', endpoint], env);
    }
    const job = join(FIXTURES, 'slow-reduce.ts');
    const { code, summary } = await runKilling('s1', [job, '--input', `s3://${BUCKET}/books/*.txt`, '--output', `s3://${BUCKET}/horizontal/`, '--transport', 'horizontal'], dispatcher);
    expect(code).toBe(0);
    expect(await objectsUnder('horizontal/')).toEqual(await onOneMachine('counts-h', [job]));
    // The dead server's map outputs were in the store, not on its disk: no map ran again.
    const [stage] = summary.stages;
    expect(stage.mapAttempts).toBeLessThanOrEqual(stage.mapTasks + stage.backupAttempts);
    // And they leave the store once the job is over.
    await until('the map outputs to leave the store', async () => ((await objectsUnder('shared/map-out/')).size === 0 ? true : undefined), 10_000);
  }, 120_000);

  it('left nothing on this machine\'s disk: each host wrote only to its own', async () => {
    expect(await readdir(disk)).toEqual([]);
  });
});
