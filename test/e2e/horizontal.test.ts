// The horizontal backend as daemons: `mr balancer`, `mr master --balancer`, stateless servers
// (`mr worker --join`). Servers killed mid-map and mid-reduce lose nothing and duplicate nothing;
// a server that joins mid-job gets work.
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemon as startDaemon } from '../helpers/daemon.ts';
import { until as poll } from '../helpers/until.ts';
import { connectBalancer, type BalancerClient } from '../../src/backends/horizontal/balancer/balancer-client.ts';
import { BOOKS, FIXTURES, finished, readParts, recordsOf, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
let inputs: string;
let balancerAddress: string;
let masterAddress: string;
let balancer: BalancerClient;
const daemons: ChildProcess[] = [];
let nextServer = 0;

const daemon = (args: string[]) => startDaemon(args, daemons);

const server = () => daemon(['worker', '--join', balancerAddress, '--work-dir', join(dir, `server-${nextServer++}`)]);

beforeAll(async () => {
  dir = await tempDir();
  for (let f = 0; f < 6; f++) {
    const lines = Array.from({ length: 200 }, (_, i) => 'y'.repeat((i * 5 + f) % 19)).join('\n');
    await writeFile(join(dir, `in-${f}.txt`), `${lines}\n`);
  }
  inputs = join(dir, 'in-*.txt');
  balancerAddress = (await daemon(['balancer', '--listen', '127.0.0.1:0'])).address;
  masterAddress = (await daemon(['master', '--listen', '127.0.0.1:0', '--work-dir', join(dir, 'master'),
    '--balancer', balancerAddress, '--shared-dir', join(dir, 'shared'), '--dispatch-slots', '4'])).address;
  balancer = connectBalancer(balancerAddress);
});
afterAll(async () => {
  balancer?.close();
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  await removeDir(dir);
});

/** slow-lines over the inputs: line lengths mod 7, counted. */
async function expected(): Promise<Map<string, string>> {
  const counts = new Map<string, number>();
  for (let f = 0; f < 6; f++) {
    for (const line of (await readFile(join(dir, `in-${f}.txt`), 'utf8')).split('\n').slice(0, -1)) {
      counts.set(String(line.length % 7), (counts.get(String(line.length % 7)) ?? 0) + 1);
    }
  }
  return new Map([...counts].map(([k, v]) => [k, String(v)]));
}

function submit(name: string, job: string, input: string, extra: string[] = []) {
  const child = startMr(['run', job, '--input', input, '--output', join(dir, name), '--master', masterAddress,
    '--transport', 'horizontal', '--reducers', '2', '--quiet', ...extra]);
  return { done: finished(child), jobId: stderrMatch(child, /^job (\S+)$/m).then((m) => m[1]) };
}

/** A server the balancer has sent a request that is still running. */
const busyServer = async (among: Map<string, ChildProcess>) => {
  const { servers } = await balancer.listServers();
  const busy = servers.find((s) => s.outstanding > 0 && among.has(s.address));
  return busy && { address: busy.address, child: among.get(busy.address)! };
};

const until = <T>(what: string, probe: () => Promise<T | undefined>, ms = 40_000): Promise<T> => poll(what, probe, ms, 100);

describe('the horizontal backend', () => {
  it('loses a server mid-map: its task fails over, nothing is lost or duplicated', async () => {
    const servers = new Map([await server(), await server()].map((s) => [s.address, s.child]));
    const before = (await balancer.listServers()).failovers;
    const job = submit('mid-map', join(FIXTURES, 'slow-lines.ts'), inputs, ['--set', 'lineMs=15']);
    const victim = await until('a busy server', () => busyServer(servers));
    victim.child.kill('SIGKILL');
    const r = await job.done;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(join(dir, 'mid-map')))).toEqual(await expected());
    expect((await balancer.listServers()).failovers).toBeGreaterThan(before);
    const status = JSON.parse((await runMr(['status', await job.jobId, '--json', '--master', masterAddress])).stdout).jobs[0];
    expect(status.stages[0].failedAttempts).toBe(0);
  });

  it('loses a server mid-reduce: the reduce fails over, the output is whole', async () => {
    const servers = new Map([await server()].map((s) => [s.address, s.child]));
    const job = submit('mid-reduce', join(FIXTURES, 'slow-reduce.ts'), BOOKS);
    const jobId = await job.jobId;
    await until('the reduce phase', async () => {
      const status = JSON.parse((await runMr(['status', jobId, '--json', '--master', masterAddress])).stdout).jobs[0];
      return status.phase === 'reduce' ? true : undefined;
    });
    const before = (await balancer.listServers()).failovers;
    const victim = await until('a busy server', () => busyServer(servers), 20_000);
    victim.child.kill('SIGKILL');
    const r = await job.done;
    expect((await balancer.listServers()).failovers).toBeGreaterThan(before);
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(join(dir, 'mid-reduce')))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });

  it('sends work to a server that joins mid-job', async () => {
    const job = submit('joined', join(FIXTURES, 'slow-lines.ts'), inputs, ['--set', 'lineMs=15']);
    await job.jobId;
    const late = await server();
    await until('work on the new server', async () => {
      const state = (await balancer.listServers()).servers.find((s) => s.address === late.address);
      return state && state.served + state.outstanding > 0 ? true : undefined;
    });
    const r = await job.done;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(join(dir, 'joined')))).toEqual(await expected());
  });
});

describe('mr run --transport horizontal --autoscale', () => {
  it('starts servers while tasks queue up, and reports them over time', async () => {
    const r = await runMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', inputs, '--output', join(dir, 'autoscale'),
      '--transport', 'horizontal', '--autoscale', '1..3', '--set', 'lineMs=10', '--json', '--quiet']);
    expect(r.code).toBe(0);
    const { backend } = JSON.parse(r.stdout);
    expect(backend.name).toBe('horizontal');
    expect(backend.servers[0]).toEqual({ atMs: expect.any(Number), servers: 1 });
    expect(Math.max(...backend.servers.map((s: { servers: number }) => s.servers))).toBeGreaterThan(1);
    expect(backend.nodes).toBeLessThanOrEqual(3);
    expect(recordsOf(await readParts(join(dir, 'autoscale')))).toEqual(await expected());
  });

  it('grows while tasks wait, then shrinks one server at a time once they idle, and never swings back', async () => {
    const r = await runMr(['run', join(FIXTURES, 'long-reduce.ts'), '--input', inputs, '--output', join(dir, 'autoscale-down'), '--transport', 'horizontal',
      '--autoscale', '1..3', '--reducers', '1', '--no-packing', '--no-speculation', '--set', 'lineMs=8', '--set', 'reduceMs=1300', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const sizes = (JSON.parse(r.stdout).backend.servers as { servers: number }[]).map((s) => s.servers);
    const peak = sizes.indexOf(3);
    expect(peak).toBeGreaterThan(0);                                   // it grew to max while the maps waited
    const after = sizes.slice(peak);
    expect(after.every((n, i) => i === 0 || n === after[i - 1] - 1)).toBe(true);   // then only down, one at a time
    expect(after[after.length - 1]).toBeLessThan(3);                   // the long reduce needed fewer
  }, 60_000);

  it('rejects a bad range, and --autoscale on another backend', async () => {
    const bad = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'bad-as'), '--transport', 'horizontal', '--autoscale', '3..1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--autoscale wants min..max/);
    const other = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'bad-as2'), '--autoscale', '1..2']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--autoscale applies to --transport horizontal/);
  });
});
