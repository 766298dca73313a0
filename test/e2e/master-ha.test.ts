// Masters that stand in for each other (mr master --ha), with a real etcd member and real
// processes: the leader killed with kill -9 mid-job, a standby elected in its place replays the
// journal the leader kept in etcd, the workers and mr run (given both addresses) find it by
// themselves, the job finishes with the output of every backend, and no committed task runs again.
// A leader frozen past its lease is replaced; woken, it finds itself no leader and stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEtcdMember, type EtcdMember } from '../../src/backends/ssi/etcd-member.ts';
import { EtcdJournal, etcdClient } from '../../src/master/etcd-journal.ts';
import { FIXTURES, MR, ROOT, finished, readParts, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { until } from '../helpers/until.ts';
import { relayTo } from '../helpers/tcp-partition.ts';

let dir: string;
let etcd: EtcdMember;
const started: ChildProcess[] = [];

beforeAll(async () => {
  dir = await tempDir();
  etcd = await startEtcdMember(join(dir, 'etcd'));
  for (let f = 0; f < 6; f++) await writeFile(join(dir, `in-${f}.txt`), `${Array.from({ length: 80 }, (_, i) => 'h'.repeat((i * 5 + f) % 17)).join('\n')}\n`);
}, 60_000);
afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await etcd?.stop();
  await removeDir(dir);
});

/** A master of the group `name`, with the lines it prints on stdout as they come. */
function master(name: string, address: string, workDir: string): { child: ChildProcess; lines: string[]; line: (pattern: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, [MR, 'master', '--listen', address, '--work-dir', workDir, '--ha', etcd.endpoints.join(','), '--ha-name', name],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  child.stderr!.resume();
  const lines: string[] = [];
  const waiting: [RegExp, (line: string) => void][] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const [pattern, resolve] of waiting.splice(0)) {
      if (pattern.test(line)) resolve(line);
      else waiting.push([pattern, resolve]);
    }
  });
  const line = (pattern: RegExp): Promise<string> => {
    const seen = lines.find((l) => pattern.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiting.push([pattern, resolve]));
  };
  return { child, lines, line };
}

function worker(masters: string, workDir: string): ChildProcess {
  const child = spawn(process.execPath, [MR, 'worker', '--master', masters, '--work-dir', workDir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  started.push(child);
  return child;
}

/** The committed tasks in the group's journal, each as `stage kind index`. */
async function committed(name: string): Promise<string[]> {
  const client = etcdClient(etcd.endpoints);
  try {
    const { records } = await EtcdJournal.read(client, name);
    return records.flatMap((r) => (r.t === 'task-done' ? [`${r.stage} ${r.kind} ${r.index}`] : []));
  } finally {
    client.close();
  }
}

async function mapsDone(masters: string, jobId: string): Promise<number> {
  const r = await runMr(['status', jobId, '--master', masters, '--json']);
  if (r.code !== 0) return 0;
  return JSON.parse(r.stdout).jobs[0]?.mapDone ?? 0;
}

describe('mr master --ha', () => {
  it('a standby takes over from a leader killed mid-job: the job finishes by itself, and no committed task runs again', async () => {
    const [a, b] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const both = `${a},${b}`;
    const first = master('kill', a, join(dir, 'ma'));
    await first.line(/^listening /);
    const second = master('kill', b, join(dir, 'mb'));
    expect(await second.line(/^standby/)).toBe(`standby: ${a} leads`);
    for (let w = 0; w < 2; w++) worker(both, join(dir, `w${w}`));
    const job = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'in-*.txt'), '--output', join(dir, 'out'), '--master', both,
      '--no-packing', '--no-speculation', '--set', 'lineMs=25', '--json', '--quiet']);
    const jobId = (await stderrMatch(job, /^job (\S+)$/m))[1];
    await until('a map committed, the job still running', async () => ((await mapsDone(both, jobId)) >= 1 ? true : undefined), 30_000);
    const before = await committed('kill');
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await second.line(/^listening /)).toBe(`listening ${b}`);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(15_000);   // a lease of 3 s, then the journal's replay
    const r = await finished(job);
    expect(r.code, r.stderr).toBe(0);
    const memory = await runMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'in-*.txt'), '--output', join(dir, 'memory'), '--transport', 'memory', '--quiet']);
    expect(await readParts(join(dir, 'out'))).toEqual(await readParts(join(dir, 'memory')));
    // Every task committed once, those committed before the kill among them: none ran again to commit.
    const after = await committed('kill');
    expect(new Set(after).size).toBe(after.length);
    expect(after).toEqual(expect.arrayContaining(before));
    expect(before.length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('a leader cut off from etcd by the network is replaced, and stops by itself: never two leaders', async () => {
    const [host, port] = new URL(etcd.endpoints[0]).host.split(':');
    const partition = await relayTo(host, Number(port));
    try {
      const [a, b] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
      const child = spawn(process.execPath, [MR, 'master', '--listen', a, '--work-dir', join(dir, 'pa'), '--ha', `http://${partition.address}`, '--ha-name', 'cut'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(child);
      let said = '';
      child.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
      await new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('listening') && resolve()));
      const second = master('cut', b, join(dir, 'pb'));
      await second.line(/^standby/);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      partition.cut();
      expect(await second.line(/^listening /)).toBe(`listening ${b}`);
      // The old leader, alive and reachable by its clients, learns its leadership is gone and stops.
      expect(await exited).not.toBe(0);
      expect(said).toMatch(/leadership lapsed|no longer the leader|could not write the journal/);
    } finally {
      await partition.close();
    }
  }, 60_000);

  it('a leader frozen past its lease is replaced; woken, it finds itself no leader and stops', async () => {
    const [a, b] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const first = master('freeze', a, join(dir, 'fa'));
    await first.line(/^listening /);
    const second = master('freeze', b, join(dir, 'fb'));
    await second.line(/^standby/);
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
    first.child.kill('SIGSTOP');
    expect(await second.line(/^listening /)).toBe(`listening ${b}`);
    first.child.kill('SIGCONT');
    expect(await exited).not.toBe(0);
    // The group goes on with its one leader.
    await writeFile(join(dir, 'one.txt'), 'a line\n');
    worker(b, join(dir, 'fw'));
    const r = await runMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'one.txt'), '--output', join(dir, 'frozen-out'), '--master', `${a},${b}`, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
});
