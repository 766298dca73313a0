// The daemons' logs and the attempts' output: `mr master` and `mr worker` with their stderr on a
// pipe write one JSON object a line; what a job prints (console.*, process.stderr.write,
// process.stdout.write) reaches `mr logs`, the tail of a flood behind a truncation mark; no token
// shows in any log, right or wrong.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, MR, ROOT, removeDir, runMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';

const TOKEN = `Right-${randomBytes(12).toString('hex')}`;
const WRONG = `Wr0ng-${randomBytes(12).toString('hex')}`;
const TRUNCATED = '... (truncated)\n';

interface Daemon { process: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> }

function daemon(args: string[]): Daemon {
  const child = spawn(process.execPath, [MR, ...args], { cwd: ROOT, env: { ...process.env, MR_LOG: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { process: child, stdout: () => stdout, stderr: () => stderr, exited };
}

let dir: string;
let master: Daemon;
let worker: Daemon;
let address: string;
const mr = (...args: string[]) => runMr([...args, '--master', address, '--token', TOKEN]);

beforeAll(async () => {
  dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.txt'), 'PRINT alpha\nplain\n');
  await writeFile(join(dir, 'in', 'b.txt'), 'FLOOD\nplain\n');
  master = daemon(['master', '--listen', '127.0.0.1:0', '--work-dir', join(dir, 'master'), '--token', TOKEN]);
  address = await new Promise<string>((resolve, reject) => {
    master.process.stdout!.on('data', () => {
      const match = /^listening (\S+)$/m.exec(master.stdout());
      if (match) resolve(match[1]);
    });
    void master.exited.then((code) => reject(new Error(`mr master exited with ${code}: ${master.stderr()}`)));
  });
  worker = daemon(['worker', '--master', address, '--work-dir', join(dir, 'worker'), '--slots', '2', '--token', TOKEN]);
  await stderrMatch(worker.process, /"msg":"registered"/);
});

afterAll(async () => {
  for (const d of [master, worker]) if (d && d.process.exitCode === null) d.process.kill('SIGKILL');
  await removeDir(dir);
});

/** Every line of a log: one JSON object with an ISO time, a level label, the component and the message. */
function records(text: string, what: string): Record<string, unknown>[] {
  expect(text.endsWith('\n'), `${what} ends with a whole line`).toBe(true);
  return text.slice(0, -1).split('\n').map((line) => {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${what}: a line that is not JSON: ${line}`);
    }
    expect(record.time, line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(['debug', 'info', 'warn', 'error'], line).toContain(record.level);
    expect(typeof record.component, line).toBe('string');
    expect(typeof record.msg, line).toBe('string');
    return record;
  });
}

describe('logs', () => {
  let jobId: string;

  it('keeps what a map writes to process.stderr, process.stdout and console.error; mr logs shows it', async () => {
    const r = await mr('run', join(FIXTURES, 'prints-in-map.ts'), '--input', join(dir, 'in', '*.txt'), '--output', join(dir, 'out'), '--quiet');
    expect(r.code, r.stderr).toBe(0);
    jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const text = await mr('logs', jobId);
    expect(text.code, text.stderr).toBe(0);
    for (const line of ['raw stderr from map: PRINT alpha', 'raw stdout from map: PRINT alpha', 'console.error from map: PRINT alpha', 'flood done']) {
      expect(text.stdout).toContain(line);
    }
    // and none of it reached the worker's own stderr
    expect(worker.stderr()).not.toContain('from map');
    expect(worker.stderr()).not.toContain('flood');
  });

  it('mr logs --task --json: one attempt, its own output, in the order written', async () => {
    const logs = await mr('logs', jobId, '--task', 'map-0', '--json');
    expect(logs.code, logs.stderr).toBe(0);
    const [attempt, ...others] = JSON.parse(logs.stdout).attempts;
    expect(others).toEqual([]);
    expect(attempt).toMatchObject({ task: 's1.map-0', state: 'succeeded' });
    expect(attempt.log).toBe(['raw stderr from map: PRINT alpha', 'raw stdout from map: PRINT alpha', 'console.error from map: PRINT alpha'].join('\n'));
  });

  it('keeps the last 64 KiB of a flood, behind a truncation mark', async () => {
    const logs = await mr('logs', jobId, '--task', 'map-1', '--json');
    const [attempt] = JSON.parse(logs.stdout).attempts;
    expect(attempt.task).toBe('s1.map-1');
    expect(attempt.log.startsWith(TRUNCATED)).toBe(true);
    expect(attempt.log.length).toBeLessThanOrEqual(64 * 1024 + TRUNCATED.length);
    expect(attempt.log.length).toBeGreaterThan(60 * 1024);
    expect(attempt.log).toMatch(/flood 0999 x{90}\nflood done$/);
    expect(attempt.log).not.toContain('flood 0000');
    expect(attempt.log).not.toContain('PRINT');
  });

  it("mr run --master: a failed job's run prints its failing attempt's last lines and the mr logs to see all", async () => {
    await mkdir(join(dir, 'holmes'));
    await writeFile(join(dir, 'holmes', 'h.txt'), 'Sherlock Holmes\n');
    const r = await mr('run', join(FIXTURES, 'throws-in-map.ts'), '--input', join(dir, 'holmes', '*.txt'), '--output', join(dir, 'out-fail'), '--max-attempts', '2', '--quiet');
    expect(r.code).toBe(1);
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const lines = r.stderr.trim().split('\n').slice(-4);
    expect(lines[0]).toMatch(/^mr: job failed: stage 1 map task 0 failed 2 times/);
    expect(lines[1]).toContain(`attempt ${jobId}.s1.map-0.a2 (s1.map-0 on `);
    expect(lines[2]).toBe('  about to fail on: Sherlock Holmes');
    expect(lines[3]).toBe(`mr: every attempt's log: mr logs ${jobId} --master ${address}`);
  });

  it('a wrong token is refused and shows in no log; the daemons log JSON lines only, the right token nowhere', async () => {
    const refused = await runMr(['status', '--master', address, '--token', WRONG]);
    expect(refused.code).toBe(2);
    const refusedWorker = await runMr(['worker', '--master', address, '--work-dir', join(dir, 'refused'), '--token', WRONG], { env: { MR_LOG: 'debug' } });
    expect(refusedWorker.code).toBe(2);
    expect(refusedWorker.stderr.trim().split('\n')).toHaveLength(1);
    expect(refusedWorker.stderr).toMatch(/^mr: /);
    master.process.kill('SIGTERM');
    worker.process.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await master.exited).toBe(0);

    const workerLog = records(worker.stderr(), 'mr worker stderr');
    expect(workerLog.find((r) => r.msg === 'registered')).toMatchObject({ level: 'info', component: 'worker', pid: worker.process.pid });
    const masterFile = await readFile(join(dir, 'master', 'master.log'), 'utf8');
    const masterLog = records(masterFile, 'master.log');
    expect(masterLog.map((r) => r.msg)).toEqual(expect.arrayContaining(['worker registered', 'job submitted']));
    expect(masterLog.every((r) => r.component === 'master')).toBe(true);
    if (master.stderr() !== '') records(master.stderr(), 'mr master stderr');
    for (const [what, text] of [['mr worker stderr', worker.stderr()], ['master.log', masterFile], ['mr master stderr', master.stderr()],
      ['mr master stdout', master.stdout()], ['refused mr status', refused.stdout + refused.stderr],
      ['refused mr worker', refusedWorker.stdout + refusedWorker.stderr]]) {
      expect(text, what).not.toContain(WRONG);
      expect(text, what).not.toContain(TOKEN);
    }
  });
});
