// How long masters that stand in for each other (mr master --ha) take to take over: an etcd
// member, two masters, two workers and a job of slow maps; the leader is killed (kill -9) just
// after a commit, and the time is measured to the standby's `listening` and to the next task
// committed (a task-done record in the journal kept in etcd). Prints a table and writes
// bench/results/takeover-<commit>.json; asserts nothing.
//
//   npm run bench:takeover -- [--repeat 3]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startEtcdMember } from '../src/backends/ssi/etcd-member.ts';
import { EtcdJournal, etcdClient } from '../src/master/etcd-journal.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const MR = join(ROOT, 'bin', 'mr.mjs');
const { values } = parseArgs({ options: { repeat: { type: 'string', default: '3' } } });

function daemon(args: string[], children: ChildProcess[]): { child: ChildProcess; line: (pattern: RegExp) => Promise<number> } {
  const child = spawn(process.execPath, [MR, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  const seen: [string, number][] = [];
  const waiting: [RegExp, (at: number) => void][] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const at = performance.now();
    seen.push([text, at]);
    for (const [pattern, resolve] of waiting.splice(0)) {
      if (pattern.test(text)) resolve(at);
      else waiting.push([pattern, resolve]);
    }
  });
  return {
    child,
    line: (pattern) => new Promise((resolve) => {
      const found = seen.find(([text]) => pattern.test(text));
      if (found) resolve(found[1]);
      else waiting.push([pattern, resolve]);
    }),
  };
}

async function tasksDone(client: ReturnType<typeof etcdClient>, name: string): Promise<number> {
  return (await EtcdJournal.read(client, name)).records.filter((r) => r.t === 'task-done').length;
}

async function once(round: number): Promise<{ toListeningMs: number; toNextCommitMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mr-takeover-'));
  const children: ChildProcess[] = [];
  const etcd = await startEtcdMember(join(dir, 'etcd'));
  const client = etcdClient(etcd.endpoints);
  const name = `bench-${round}`;
  try {
    for (let f = 0; f < 8; f++) writeFileSync(join(dir, `in-${f}.txt`), `${Array.from({ length: 60 }, (_, i) => 'x'.repeat(i % 9)).join('\n')}\n`);
    const [a, b] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const leader = daemon(['master', '--listen', a, '--work-dir', join(dir, 'a'), '--ha', etcd.endpoints[0], '--ha-name', name], children);
    await leader.line(/^listening/);
    const standby = daemon(['master', '--listen', b, '--work-dir', join(dir, 'b'), '--ha', etcd.endpoints[0], '--ha-name', name], children);
    await standby.line(/^standby/);
    for (let w = 0; w < 2; w++) daemon(['worker', '--master', `${a},${b}`, '--work-dir', join(dir, `w${w}`)], children);
    const job = spawn(process.execPath, [MR, 'run', 'test/fixtures/slow-lines.ts', '--input', join(dir, 'in-*.txt'), '--output', join(dir, 'out'), '--master', `${a},${b}`,
      '--no-packing', '--no-speculation', '--set', 'lineMs=25', '--quiet'], { cwd: ROOT, stdio: 'ignore' });
    children.push(job);
    // Kill the leader just after a commit: the time to the next one is then the takeover's, not a task's.
    await until(async () => ((await tasksDone(client, name)) >= 1 ? true : undefined));
    const done = await tasksDone(client, name);
    leader.child.kill('SIGKILL');
    const killedAt = performance.now();
    const listeningAt = await standby.line(/^listening/);
    await until(async () => ((await tasksDone(client, name)) > done ? true : undefined), 10);
    const nextCommitAt = performance.now();
    await new Promise((resolve) => job.once('exit', resolve));
    return { toListeningMs: Math.round(listeningAt - killedAt), toNextCommitMs: Math.round(nextCommitAt - killedAt) };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    client.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until<T>(probe: () => Promise<T | undefined>, everyMs = 20): Promise<T> {
  for (let i = 0; i < 6000; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error('timed out');
}

const rounds = [];
for (let r = 0; r < Number(values.repeat); r++) {
  rounds.push(await once(r));
  process.stderr.write(`round ${r + 1}: ${JSON.stringify(rounds[r])}\n`);
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
process.stdout.write([
  '| from kill -9 of the leader to | median ms | each run |', '| --- | --- | --- |',
  `| the standby listening (elected, journal replayed) | ${median(rounds.map((r) => r.toListeningMs))} | ${rounds.map((r) => r.toListeningMs).join(', ')} |`,
  `| the next task committed | ${median(rounds.map((r) => r.toNextCommitMs))} | ${rounds.map((r) => r.toNextCommitMs).join(', ')} |`,
].join('\n') + '\n');
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', `takeover-${commit}.json`), `${JSON.stringify({ commit, rounds }, null, 2)}\n`);
