// The ssi cluster's agreed state in etcd, with real etcd members and real processes: nodes are
// members while they keep their lease alive; a node killed, or frozen past its lease, is gone for
// every mirror; a frozen node that wakes finds it is no longer a member and stops working.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterState, MEMBER_TTL_SEC, type MemberInfo } from '../../src/backends/ssi/cluster-state.ts';
import { startEtcdCluster, startEtcdMember, type EtcdMember } from '../../src/backends/ssi/etcd-member.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, MR, ROOT, finished, readParts, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { until } from '../helpers/until.ts';
import { relayTo } from '../helpers/tcp-partition.ts';

let dir: string;
let etcd: EtcdMember;
let cluster: Cluster;
let mirror: ClusterState;
const members = new Map<string, MemberInfo>();
const gone: MemberInfo[] = [];

beforeAll(async () => {
  dir = await tempDir();
  etcd = await startEtcdMember(join(dir, 'etcd'));
  const agreed = ['--transport', 'ssi', '--etcd', etcd.endpoints.join(',')];
  cluster = await startCluster(dir, 2, agreed, agreed);
  for (let f = 0; f < 2; f++) await writeFile(join(dir, `slow-${f}.txt`), `${Array.from({ length: 120 }, (_, i) => 'x'.repeat(i % 9)).join('\n')}\n`);
  mirror = new ClusterState(etcd.endpoints, cluster.address);
  const seen = await mirror.mirrorMembers((member) => gone.push(member));
  // The mirror's map is the live one: keep a handle on it.
  Object.defineProperty(members, 'live', { value: seen });
}, 60_000);
afterAll(async () => {
  await mirror?.close();
  await cluster?.stop();
  await etcd?.stop();
  await removeDir(dir);
});

const live = (): Map<string, MemberInfo> => (members as unknown as { live: Map<string, MemberInfo> }).live;

describe('ssi: membership in etcd', () => {
  it('every worker daemon is a member, with its pid', async () => {
    await until('both workers as members', async () => (live().size === 2 ? true : undefined), 10_000);
    expect([...live().values()].map((m) => m.pid).sort()).toEqual(cluster.workers.map((w) => w.pid).sort());
  });

  it('each node answers mr ps from its own mirror of the agreed process table: the master\'s processes', async () => {
    const job = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'slow-*.txt'), '--output', join(dir, 'slow-out'), '--master', cluster.address, '--transport', 'ssi', '--no-packing', '--no-speculation', '--set', 'lineMs=50', '--quiet']);
    const ps = async (...extra: string[]) => JSON.parse((await runMr(['ps', '--json', '--master', cluster.address, '--transport', 'ssi', ...extra])).stdout).processes as { cpid: number; node: number; state: string; task: string }[];
    const running = await until('two map processes running', async () => {
      const rows = await ps();
      return rows.filter((p) => p.state === 'running').length === 2 ? rows : undefined;
    }, 20_000);
    expect(running.length).toBe(2);
    const shape = (rows: { cpid: number; node: number; state: string; task: string }[]) => rows.map(({ cpid, node: n, state, task }) => ({ cpid, node: n, state, task }));
    for (const node of [0, 1]) {
      // The node's mirror and the master's table (finished processes too, so that the job's pace does not matter), asked one after the other, agree.
      await until(`node ${node}'s mirror to agree with the master`, async () => {
        const [mirrored, master] = [await ps('--node', String(node), '--all'), await ps('--all')];
        return master.length > 0 && JSON.stringify(shape(mirrored)) === JSON.stringify(shape(master)) ? true : undefined;
      }, 10_000, 100);
    }
    expect((await finished(job)).code).toBe(0);
    // Finished, on every mirror: the master wrote each change of state to etcd.
    const all = await until('the mirror to see them done', async () => {
      const rows = await ps('--node', '1', '--all');
      return rows.length > 0 && rows.every((p) => p.state === 'done') ? rows : undefined;
    }, 5_000, 100);
    expect(all.length).toBeGreaterThanOrEqual(3);   // 2 maps and the reducers
    // The namespace agreed too: each committed map output's directory, and the node that holds it.
    const names = await mirror.mirrorNames();
    const maps = (JSON.parse((await runMr(['ps', '--json', '--all', '--master', cluster.address, '--transport', 'ssi'])).stdout).processes as { node: number; attemptId: string; task: string }[])
      .filter((p) => /\.map-\d+$/.test(p.task));
    expect(maps).toHaveLength(2);
    for (const map of maps) expect(names.get(`map-out/${map.attemptId}`)).toBe(map.node);
  }, 120_000);

  it('a node whose event loop one long call holds past its lease stays a member (its own thread keeps the lease)', async () => {
    await writeFile(join(dir, 'slow-record.txt'), 'a SLOW line\nand another\n');
    const lapsed = mirror.counts.leaseLapses;
    const r = await runMr(['run', join(FIXTURES, 'slow-record.ts'), '--input', join(dir, 'slow-record.txt'), '--output', join(dir, 'slow-record'), '--master', cluster.address,
      '--transport', 'ssi', '--set', `recordMs=${(MEMBER_TTL_SEC + 2) * 1000}`, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(mirror.counts.leaseLapses).toBe(lapsed);
    expect(live().size).toBe(2);
  }, 60_000);

  it('a cluster-wide lock taken in job code keeps its sections apart across nodes', async () => {
    for (let f = 0; f < 4; f++) await writeFile(join(dir, `lock-${f}.txt`), 'a\nbb\nccc\n');
    const log = join(dir, 'sections.log');
    const r = await runMr(['run', join(FIXTURES, 'locked-section.ts'), '--input', join(dir, 'lock-*.txt'), '--output', join(dir, 'locked'), '--master', cluster.address,
      '--transport', 'ssi', '--no-packing', '--no-speculation', '--set', `log=${log}`, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const events = (await readFile(log, 'utf8')).trim().split('\n').map((line) => line.split(' '));
    expect(events.length).toBeGreaterThanOrEqual(8);   // 4 sections (a task that ran again enters again)
    // Sections one after another: every enter is followed by the same attempt's leave.
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i][0]).toBe('enter');
      expect(events[i + 1]).toEqual(['leave', events[i][1], expect.any(String)]);
    }
    // And both nodes ran some (the lock was contended across nodes, not held by one).
    const nodes = new Set((JSON.parse((await runMr(['ps', '--json', '--all', '--master', cluster.address, '--transport', 'ssi'])).stdout).processes as { node: number; attemptId: string }[])
      .filter((p) => events.some((e) => e[1] === p.attemptId)).map((p) => p.node));
    expect(nodes.size).toBe(2);
  }, 60_000);

  it('a lock whose holder is killed with kill -9 is free again once its lease lapses', async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, 'hold-lock.mts'), etcd.endpoints.join(','), cluster.address, 'gate'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const taker = new ClusterState(etcd.endpoints, cluster.address);
    let taken = false;
    const taking = taker.lock('gate').then(async (release) => {
      taken = true;
      await release();
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(taken).toBe(false);   // held elsewhere: it waits
    holder.kill('SIGKILL');
    await taking;
    expect(taken).toBe(true);
    await taker.close();
  }, 30_000);

  it('a node killed with kill -9 is gone for the mirror once its lease lapses', async () => {
    const victim = cluster.workers[0];
    victim.kill('SIGKILL');
    const started = Date.now();
    await until('the killed node gone', async () => (gone.some((m) => m.pid === victim.pid) ? true : undefined), (MEMBER_TTL_SEC + 5) * 1000, 50);
    expect(Date.now() - started).toBeGreaterThan(1000);   // noticed by the lease, not at once
    expect([...live().values()].some((m) => m.pid === victim.pid)).toBe(false);
    expect(mirror.counts.leaseLapses).toBe(1);
  }, 20_000);

  it('a node frozen past its lease is gone; woken, it finds itself no member and stops', async () => {
    const frozen = cluster.workers[1];
    const exited = new Promise<number | null>((resolve) => frozen.once('exit', (code) => resolve(code)));
    frozen.kill('SIGSTOP');
    await until('the frozen node gone', async () => (gone.some((m) => m.pid === frozen.pid) ? true : undefined), (MEMBER_TTL_SEC + 5) * 1000, 50);
    frozen.kill('SIGCONT');
    expect(await exited).not.toBe(0);
  }, 30_000);

  it('a node cut off from etcd by the network stops running work; its map moves, and no task is committed twice', async () => {
    const [host, port] = new URL(etcd.endpoints[0]).host.split(':');
    const partition = await relayTo(host, Number(port));
    try {
      const agreed = ['--transport', 'ssi'];
      const steady = cluster.addWorker(undefined, [...agreed, '--etcd', etcd.endpoints.join(',')]);
      const cutOff = cluster.addWorker(undefined, [...agreed, '--etcd', `http://${partition.address}`]);
      await until('both new nodes as members', async () => ([steady, cutOff].every((w) => [...live().values()].some((m) => m.pid === w.pid)) ? true : undefined), 15_000);
      const exited = new Promise<number | null>((resolve) => cutOff.once('exit', (code) => resolve(code)));
      for (let f = 0; f < 4; f++) await writeFile(join(dir, `cut-${f}.txt`), `${Array.from({ length: 100 }, (_, i) => 'z'.repeat(i % 13)).join('\n')}\n`);
      const job = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'cut-*.txt'), '--output', join(dir, 'cut'), '--master', cluster.address,
        '--transport', 'ssi', '--no-packing', '--no-speculation', '--set', 'lineMs=50', '--quiet']);
      const jobId = (await stderrMatch(job, /^job (\S+)$/m))[1];
      const procs = await mirror.mirrorProcesses();   // the agreed process table, with the worker of each process
      const cutOffId = [...live().values()].find((m) => m.pid === cutOff.pid)!.workerId;
      const node = await until('the cut node running a map', async () =>
        [...procs.values()].find((p) => p.jobId === jobId && p.workerId === cutOffId && p.state === 'running')?.node, 20_000);
      partition.cut();
      // Its lease lapses: every mirror sees it gone, and it stops itself (it can no longer prove it is alive).
      await until('the cut node gone', async () => (gone.some((m) => m.pid === cutOff.pid) ? true : undefined), (MEMBER_TTL_SEC + 10) * 1000, 50);
      expect(await exited).not.toBe(0);
      const r = await finished(job);
      expect(r.code, r.stderr).toBe(0);
      const memory = await runMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'cut-*.txt'), '--output', join(dir, 'cut-memory'), '--transport', 'memory', '--quiet']);
      expect(await readParts(join(dir, 'cut'))).toEqual(await readParts(join(dir, 'cut-memory')));
      const rows = (JSON.parse((await runMr(['ps', '--json', '--all', '--master', cluster.address, '--transport', 'ssi'])).stdout).processes as
        { node: number; state: string; task: string; jobId: string }[]).filter((p) => p.jobId === jobId);
      const done = rows.filter((p) => p.state === 'done').map((p) => p.task);
      expect(new Set(done).size).toBe(done.length);   // each task committed once
      expect(rows.some((p) => p.node === node && p.state !== 'done' && p.state !== 'running')).toBe(true);   // its map moved off it
    } finally {
      await partition.close();
    }
  }, 90_000);

  it('a master restarted on its address shows the processes agreed before it, and gives new ones ids after theirs', async () => {
    const ps = async () => JSON.parse((await runMr(['ps', '--json', '--all', '--master', cluster.address, '--transport', 'ssi'])).stdout).processes as { cpid: number; jobId: string; state: string }[];
    const before = await ps();
    expect(before.length).toBeGreaterThan(0);
    cluster.master.kill('SIGKILL');
    await new Promise((resolve) => cluster.master.once('exit', resolve));
    const master = spawn(process.execPath, [MR, 'master', '--listen', cluster.address, '--work-dir', join(dir, 'master'), '--transport', 'ssi', '--etcd', etcd.endpoints.join(',')],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    master.stderr!.resume();
    cluster.master = master;   // stopped with the cluster
    expect(await new Promise<string>((resolve) => createInterface({ input: master.stdout! }).once('line', resolve))).toBe(`listening ${cluster.address}`);
    const after = await ps();
    expect(after.map((p) => [p.cpid, p.jobId])).toEqual(before.map((p) => [p.cpid, p.jobId]));
    await writeFile(join(dir, 'again.txt'), 'one line\n');
    const r = await runMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'again.txt'), '--output', join(dir, 'again'), '--master', cluster.address, '--transport', 'ssi', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const fresh = (await ps()).filter((p) => p.jobId === JSON.parse(r.stdout).jobId);
    expect(fresh.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...fresh.map((p) => p.cpid))).toBeGreaterThan(Math.max(...before.map((p) => p.cpid)));
  }, 60_000);
});

describe('mr run --transport ssi', () => {
  it('starts an etcd member itself; its nodes join the cluster; the output is every backend\'s', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'ssi'), '--transport', 'ssi', '--nodes', '2', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const { etcd: agreed } = JSON.parse(r.stdout).backend;
    expect(agreed.watchEvents).toBeGreaterThanOrEqual(1);   // a node that worked joined first (the other may join after so small a job is over)
    expect(agreed.leaseLapses).toBe(0);
    const memory = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'memory'), '--transport', 'memory', '--quiet']);
    expect(await readParts(join(dir, 'ssi'))).toEqual(await readParts(join(dir, 'memory')));
  });

  it('runs on a 3-member etcd, and losing one member (kill -9) mid-job does not stop the job', async () => {
    const three = await startEtcdCluster(join(dir, 'etcd3'), 3);
    try {
      for (let f = 0; f < 4; f++) await writeFile(join(dir, `three-${f}.txt`), `${Array.from({ length: 60 }, (_, i) => 'y'.repeat(i % 11)).join('\n')}\n`);
      const job = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'three-*.txt'), '--output', join(dir, 'three'), '--transport', 'ssi', '--nodes', '2',
        '--etcd', three.endpoints.join(','), '--no-packing', '--set', 'lineMs=50', '--json', '--quiet']);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      three.members[0].kill();
      const r = await finished(job);
      expect(r.code, r.stderr).toBe(0);
      const { etcd: agreed, forwardedRequests } = JSON.parse(r.stdout).backend;
      expect(agreed.leaseLapses).toBe(0);   // no node lost its membership
      // Each node mirrors the process table: the master's writes of it are notifications to every node.
      expect(agreed.watchEventsOnNodes).toBeGreaterThanOrEqual(8);   // 4 maps and 2 reduces, each started and done
      // Both nodes ran maps (4 of 3 s each): a reducer read the other's through it, a request forwarded to their owner.
      expect(forwardedRequests).toBeGreaterThanOrEqual(1);
      const memory = await runMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'three-*.txt'), '--output', join(dir, 'three-memory'), '--transport', 'memory', '--quiet']);
      expect(await readParts(join(dir, 'three'))).toEqual(await readParts(join(dir, 'three-memory')));
    } finally {
      await three.stop();
    }
  }, 60_000);

  it.each([
    [{ MR_ETCD: '/nonexistent/etcd' }, [], /keeps its cluster state in etcd, which is not installed here: install it: apt-get install -y etcd-server/],
    [{}, ['--etcd', 'localhost'], /--etcd wants client URLs like http:\/\/127.0.0.1:2379/],
  ])('refuses to run without etcd, or with a bad --etcd, in one line (%j %j)', async (env, extra, message) => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, `bad-${extra.length}`), '--transport', 'ssi', ...extra], { env: { ...process.env, ...env } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('ctx.lock on another backend fails the job, saying it needs ssi; setup and cleanup still run there', async () => {
    await writeFile(join(dir, 'one.txt'), 'a\n');
    const r = await runMr(['run', join(FIXTURES, 'locked-section.ts'), '--input', join(dir, 'one.txt'), '--output', join(dir, 'lock-memory'), '--transport', 'memory',
      '--set', `log=${join(dir, 'memory-sections.log')}`, '--max-attempts', '1', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ctx\.lock\('section'\): cluster-wide locks live in etcd, with --transport ssi only/);
    expect((await readFile(join(dir, 'memory-sections.log'), 'utf8')).trim()).toMatch(/^never entered /);   // cleanup ran after the failed setup
  });

  it('refuses --etcd on another backend', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'grpc-etcd'), '--etcd', 'http://127.0.0.1:2379']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--etcd applies to --transport ssi, not grpc/);
  });
});
