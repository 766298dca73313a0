// --chaos through the real CLI: each switch alone and all together, on grpc and on the in-process
// and simulated backends, and a worker cut off mid-job. Every run must write the very bytes of a
// run without chaos, and the chaos layer must have acted (its counts in --json).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, FIXTURES, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let reference: Map<string, Buffer>;
let runs = 0;

/** The output directory's files (part-r-* and _SUCCESS), as bytes. */
async function outputOf(out: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(out)).sort();
  return new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(out, name))] as const)));
}

async function wordcount(extra: string[], job = 'jobs/wordcount.ts') {
  const out = join(dir, `out-${runs++}`);
  const result = await runMr(['run', job, '--input', BOOKS, '--output', out, '--reducers', '4', '--json', '--quiet', ...extra]);
  if (result.code !== 0) throw new Error(`mr run ${extra.join(' ')} exited ${result.code}: ${result.stderr}`);
  return { out, json: JSON.parse(result.stdout), stderr: result.stderr };
}

async function expectSameOutput(out: string): Promise<void> {
  const got = await outputOf(out);
  expect([...got.keys()]).toEqual([...reference.keys()]);
  for (const [name, bytes] of reference) expect(got.get(name)!.equals(bytes), `${name} differs`).toBe(true);
}

beforeAll(async () => {
  dir = await tempDir('mr-chaos-');
  reference = await outputOf((await wordcount(['--workers', '2'])).out);
});
afterAll(() => removeDir(dir));

// The seed decides each fate: with seed 27, the first six status calls of `mr run` (its node,
// master) lose a request and a reply under drop=0.1, and one is duplicated under dup=0.1,
// whatever the timing; the other nodes' messages add more.
const SEED = '27';

describe('each chaos switch alone, on grpc', () => {
  const switches: [string, string[]][] = [
    ['drop=0.1', ['droppedRequests', 'droppedReplies']],
    ['delay=5ms±3ms', ['delayed']],
    ['dup=0.1', ['duplicated']],
    ['reorder=0.2', ['reordered']],
    ['bandwidth=500KB/s', ['throttled', 'throttledMs']],
  ];
  for (const [spec, acted] of switches) {
    it(`--chaos ${spec}: the same bytes, and the switch acted`, async () => {
      const { out, json } = await wordcount(['--workers', '2', '--chaos', spec, '--chaos-seed', SEED]);
      await expectSameOutput(out);
      expect(json.chaos).toMatchObject({ spec, seed: 27, nodes: 3 });
      for (const key of acted) expect(json.chaos[key], key).toBeGreaterThan(0);
      expect(json.chaos.messages).toBeGreaterThan(50);
    });
  }
});

// Rates high enough that each switch acts in a job of some hundred messages, low enough that
// no call runs out of retries.
const ALL = 'drop=0.1,delay=5ms±3ms,dup=0.1,reorder=0.1,bandwidth=1MB/s';

describe('every switch at once', () => {
  it('on grpc, with the default seed, printing what chaos did', async () => {
    const out = join(dir, 'all-grpc');
    const result = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--reducers', '4', '--workers', '2',
      '--chaos', ALL]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^mr: chaos \(seed 1, 3 node\(s\)\): \d+ message\(s\), [1-9]\d* dropped/m);
    await expectSameOutput(out);
  });

  // The simulated machines carry their shuffle in memory (butterfly) or over loopback gRPC
  // (hypercube); memory and butterfly have no retry layer of their own: the chaos layer brings one.
  const backends: [string, string[]][] = [
    ['memory', ['--workers', '2']],
    ['ssi', ['--nodes', '2']],
    ['hypercube', ['--nodes', '4']],
    ['butterfly', ['--nodes', '4']],
  ];
  for (const [transport, sizing] of backends) {
    it(`on ${transport}`, async () => {
      const { out, json } = await wordcount(['--transport', transport, ...sizing, '--chaos', ALL, '--chaos-seed', SEED]);
      await expectSameOutput(out);
      for (const key of ['messages', 'dropped', 'delayed', 'duplicated']) expect(json.chaos[key], key).toBeGreaterThan(0);
      const workers = json.processes.filter((p: { role: string }) => p.role === 'worker');
      expect(workers.every((p: { chaos?: { messages: number } }) => (p.chaos?.messages ?? 0) > 0)).toBe(true);
    });
  }
});

describe('a partition', () => {
  it('cuts worker-1 off mid-job; the job still ends with the exact output', async () => {
    // A word count whose reduces take some 6 s, after maps that end about 2 s into the run: the
    // window falls in the reduce phase, while worker-1 holds map outputs and runs reduces.
    const { out, json } = await wordcount(['--workers', '2', '--chaos', 'partition=worker-1@3s-6s'], join(FIXTURES, 'slow-reduce.ts'));
    await expectSameOutput(out);
    expect(json.chaos.partitions).toEqual([{ node: 'worker-1', fromMs: 3000, toMs: 6000 }]);
    expect(json.chaos.partitioned).toBeGreaterThan(0);
    expect(json.elapsedMs).toBeGreaterThan(6000);
  });
});

describe('bad chaos options', () => {
  const usage = async (extra: string[], message: RegExp) => {
    const result = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, `bad-${runs++}`), ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  };
  it('are one-line usage errors', async () => {
    await usage(['--chaos', 'drop=2'], /^mr: --chaos drop=2: wants a probability/);
    await usage(['--chaos', 'jitter=5ms'], /unknown switch jitter/);
    await usage(['--chaos-seed', '3'], /--chaos-seed applies with --chaos/);
    await usage(['--chaos', 'drop=0.1', '--chaos-seed', '-1'], /--chaos-seed must be a whole number/);
    await usage(['--workers', '2', '--chaos', 'partition=worker-2@1s-2s'], /no node worker-2; its nodes are master and worker-0 to worker-1/);
    await usage(['--transport', 'horizontal', '--chaos', 'drop=0.1'], /--transport horizontal cannot carry --chaos.*; use grpc, memory, hypercube, butterfly, ssi/);
    await usage(['--master', '127.0.0.1:1', '--chaos', 'drop=0.1'], /give it to mr master and mr worker/);
  });
});
