// The ssi backend as daemons: one process table over every node (mr ps, mr kill <cpid>), one
// file namespace (mr cat /cluster/<node>/...), draining and losing nodes without the job
// seeing a failure, their maps resumed elsewhere from their checkpoints.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until as poll } from '../helpers/until.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { FIXTURES, finished, readParts, recordsOf, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let cluster: Cluster;
let inputs: string;
const SLOW = join(FIXTURES, 'slow-lines.ts');

beforeAll(async () => {
  dir = await tempDir();
  // Six files of 200 lines: at 25 ms a line, each map task runs about 5 s.
  for (let f = 0; f < 6; f++) {
    const lines = Array.from({ length: 200 }, (_, i) => 'x'.repeat((i * 7 + f) % 23)).join('\n');
    await writeFile(join(dir, `in-${f}.txt`), `${lines}\n`);
  }
  inputs = join(dir, 'in-*.txt');
  cluster = await startCluster(dir, 3, [], ['--transport', 'ssi']);
});
afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

const mr = (...args: string[]) => runMr([...args, '--master', cluster.address, '--transport', 'ssi']);
const ps = async (all = false) => JSON.parse((await mr('ps', '--json', ...(all ? ['--all'] : []))).stdout).processes as
  { cpid: number; node: number; state: string; task: string; jobId: string; cpuMs: number; elapsedMs: number; checkpointBytes: number }[];

/** The map stage's counters, summed over its committed attempts. */
const mapCounters = async (jobId: string): Promise<Record<string, number>> => JSON.parse((await mr('status', jobId, '--json')).stdout).jobs[0].stages[0].counters;

/** The expected output of slow-lines over the inputs: line lengths mod 7, counted. */
async function expected(files = 6): Promise<Map<string, string>> {
  const counts = new Map<string, number>();
  for (let f = 0; f < files; f++) {
    for (const line of (await readFile(join(dir, `in-${f}.txt`), 'utf8')).split('\n').slice(0, -1)) {
      const key = String(line.length % 7);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return new Map([...counts].map(([k, v]) => [k, String(v)]));
}

function startSlowJob(name: string, lineMs = 25, input = inputs) {
  const child = startMr(['run', SLOW, '--input', input, '--output', join(dir, name), '--master', cluster.address,
    '--transport', 'ssi', '--set', `lineMs=${lineMs}`, '--reducers', '2', '--no-speculation', '--quiet']);
  return { child, done: finished(child), jobId: stderrMatch(child, /^job (\S+)$/m).then((m) => m[1]) };
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> => poll(what, probe, ms, 200);

describe('the ssi backend', () => {
  it('shows every node\'s attempts in one process table, and kills one by its cluster-wide id', async () => {
    const job = startSlowJob('ps', 50); // maps of about 10 s: time to look, then kill one still running
    const jobId = await job.jobId;
    const nodes = new Set<number>();
    const running = await until('attempts on three nodes', async () => {
      const procs = (await ps()).filter((p) => p.jobId === jobId);
      procs.forEach((p) => nodes.add(p.node));
      return nodes.size >= 3 && procs.length > 0 ? procs : undefined;
    });
    expect(running.every((p) => p.state === 'running' && p.cpid >= 1000 && /^s1\.map-\d$/.test(p.task))).toBe(true);
    // The youngest running attempt, so that it is still running when the kill lands; an attempt
    // that finished first is not running any more, and another is picked.
    const victim = await until('an attempt killed', async () => {
      const live = (await ps()).filter((p) => p.jobId === jobId && p.state === 'running').sort((a, b) => a.elapsedMs - b.elapsedMs);
      if (live.length === 0) return undefined;
      const kill = await mr('kill', String(live[0].cpid));
      if (kill.stdout.includes(`killed process ${live[0].cpid}`)) return live[0];
      expect(kill.stdout).toContain('is not running');
      return undefined;
    });
    const r = await job.done;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(join(dir, 'ps')))).toEqual(await expected());
    const after = (await ps(true)).filter((p) => p.jobId === jobId);
    expect(after.find((p) => p.cpid === victim.cpid)?.state).toBe('killed');
    expect(after.filter((p) => p.state === 'done').length).toBeGreaterThanOrEqual(8); // 6 maps, 2 reduces
    expect((await mr('kill', '999999')).code).toBe(2);
  });

  it('pauses an attempt with STOP and resumes it with CONT, wherever it runs', async () => {
    // Three maps of about 12 s each, so that the one paused is still running when the pause lands.
    const job = startSlowJob('stop', 60, join(dir, 'in-[0-2].txt'));
    const jobId = await job.jobId;
    const target = await until('a running map', async () => (await ps()).find((p) =>
      p.jobId === jobId && p.state === 'running' && p.task.includes('map') && p.elapsedMs < 6000));
    expect((await mr('kill', String(target.cpid), '--signal', 'STOP')).stdout).toContain(`stopped process ${target.cpid}`);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // a heartbeat, then a pause
    const held = (await ps()).find((p) => p.cpid === target.cpid)!;
    expect(held.state).toBe('stopped');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const still = (await ps()).find((p) => p.cpid === target.cpid)!;
    expect(still.state).toBe('stopped');
    expect(still.cpuMs - held.cpuMs).toBeLessThan(1000); // it would burn ~3000 ms of CPU running
    expect((await mr('kill', String(target.cpid), '-s', 'CONT')).stdout).toContain(`continued process ${target.cpid}`);
    const r = await job.done;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(join(dir, 'stop')))).toEqual(await expected(3));
    const procs = (await ps(true)).filter((p) => p.jobId === jobId);
    expect(procs.find((p) => p.cpid === target.cpid)?.state).toBe('done');
    expect((await mr('kill', String(target.cpid), '-s', 'HUP')).stderr + (await mr('kill', String(target.cpid), '-s', 'HUP')).stdout).toMatch(/unknown signal|not running/);
  });

  it('drains a node mid-job: its map moves, resumes from its checkpoint elsewhere, no failure is seen, and the node takes no more work', async () => {
    const job = startSlowJob('drain', 50); // maps of about 10 s: the one seen running still runs when the drain lands
    const jobId = await job.jobId;
    // Maps checkpoint every second on ssi: one that has is moved with its state.
    const target = await until('a running map with a checkpoint', async () => (await ps()).find((p) => p.jobId === jobId && p.state === 'running' && p.checkpointBytes > 0));
    const drain = await mr('drain', String(target.node), '--json');
    expect(JSON.parse(drain.stdout)).toMatchObject({ node: target.node, drained: true });
    expect(JSON.parse(drain.stdout).moved).toBeGreaterThanOrEqual(1);
    const lastBeforeDrain = Math.max(...(await ps(true)).map((p) => p.cpid)); // the node gets nothing after this
    const r = await job.done;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(join(dir, 'drain')))).toEqual(await expected());
    const procs = (await ps(true)).filter((p) => p.jobId === jobId);
    expect(procs.filter((p) => p.node === target.node && p.state === 'moved').length).toBeGreaterThanOrEqual(1);
    expect(procs.filter((p) => p.cpid > lastBeforeDrain && p.node === target.node)).toEqual([]);
    const status = JSON.parse((await mr('status', jobId, '--json')).stdout).jobs[0];
    expect(status.stages[0].failedAttempts).toBe(0);
    // Its next attempt read on from the checkpoint: at least what the table showed was not read again.
    const counters = await mapCounters(jobId);
    expect(counters['map.resumedBytes']).toBeGreaterThanOrEqual(target.checkpointBytes);
    expect(counters['map.checkpoints']).toBeGreaterThanOrEqual(1);
  });

  it('names each node\'s files in one namespace, from anywhere', async () => {
    const procs = (await ps(true)) as unknown as { node: number; state: string; task: string; attemptId: string }[];
    const map = procs.find((p) => p.state === 'done' && p.task.includes('map'))!;
    const path = `/cluster/${map.node}/map-out/${map.attemptId}/r-0`;
    const [onDisk] = await fg(join(dir, `worker-*/map-out/${map.attemptId}/r-0`).replaceAll('\\', '/'));
    const cat = await mr('cat', path);
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe(await readFile(onDisk, 'utf8'));
    expect(cat.stdout.length).toBeGreaterThan(0);
    // The same file by a plain path: no node named, found wherever it lies.
    const plain = await mr('cat', `map-out/${map.attemptId}/r-0`);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(cat.stdout);
    expect((await mr('cat', 'map-out/no-such-output/r-0')).stderr).toMatch(/no file map-out\/no-such-output\/r-0 on any node/);
    expect((await mr('cat', '../escape')).code).toBe(2);
    const listing = await mr('cat', `/cluster/${map.node}/map-out/nothing-here`);
    expect(listing.code).toBe(2);
    expect(listing.stderr).toMatch(new RegExp(`no file /cluster/${map.node}/map-out/nothing-here`));
    expect((await mr('cat', '/cluster/0/../../etc/passwd')).code).toBe(2);
    expect((await mr('cat', '/cluster/77/x')).stderr).toMatch(/node 77 is not in the pool/);
  });

  it('loses a node mid-job without the job seeing a failure', async () => {
    const known = new Set((await ps(true)).map((p) => p.node));
    const extra = cluster.addWorker(); // a node added to the pool is usable at once
    const job = startSlowJob('lost');
    const jobId = await job.jobId;
    const target = await until('an attempt with a checkpoint on the new node', async () =>
      (await ps()).find((p) => p.jobId === jobId && !known.has(p.node) && p.checkpointBytes > 0));
    extra.kill('SIGKILL');
    const r = await job.done;
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(join(dir, 'lost')))).toEqual(await expected());
    const status = JSON.parse((await mr('status', jobId, '--json')).stdout).jobs[0];
    expect(status.stages[0].failedAttempts).toBe(0);
    // The dead node's map resumed from its last checkpoint, its runs read from the dead node's disk.
    expect((await mapCounters(jobId))['map.resumedBytes']).toBeGreaterThanOrEqual(target.checkpointBytes);
  });
});
