// The horizontal backend across hosts: master, balancer and two servers each in a network
// namespace of their own, joined by a bridge on private addresses this test makes (10.77.x.0/24).
// One server's namespace is killed mid-job; the output must still be whole. Needs root and
// `ip netns` (iproute2); skipped with a message otherwise.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, FIXTURES, MR, ROOT, finished, readParts, recordsOf, removeDir, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

const tag = randomBytes(2).toString('hex');
const subnet = `10.77.${parseInt(tag, 16) % 250}`;
const bridge = `mrbr${tag}`;
const hosts = ['master', 'lb', 's1', 's2'];
const nsOf = (host: string) => `mr${tag}${host}`;
const ipOf = (host: string) => `${subnet}.${hosts.indexOf(host) + 2}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    ip('netns', 'add', `mr${tag}probe`);
    ip('netns', 'del', `mr${tag}probe`);
    return undefined;
  } catch (error) {
    return `ip netns: ${(error as Error).message.split('\n')[0]}`;
  }
}

const why = unavailable();
if (why) console.warn(`skipping the multi-host test: ${why}`);

let dir: string;
let tokenFile: string;
const children: ChildProcess[] = [];

function setUpNetwork(): void {
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('link', 'set', bridge, 'up');
  for (const host of hosts) {
    const ns = nsOf(host);
    const [inside, outside] = [`v${tag}${host}`.slice(0, 15), `b${tag}${host}`.slice(0, 15)];
    ip('netns', 'add', ns);
    ip('link', 'add', inside, 'type', 'veth', 'peer', 'name', outside);
    ip('link', 'set', inside, 'netns', ns);
    ip('link', 'set', outside, 'master', bridge);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${ipOf(host)}/24`, 'dev', inside);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  }
}

function tearDownNetwork(): void {
  for (const host of hosts) {
    try { killNamespace(host); } catch { /* already gone */ }
  }
  try { ip('link', 'del', bridge); } catch { /* already gone */ }
}

/** Kills every process in the host's namespace and deletes it: the host is gone. */
function killNamespace(host: string): void {
  const pids = execFileSync('ip', ['netns', 'pids', nsOf(host)], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const pid of pids) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* exited */ }
  }
  ip('netns', 'del', nsOf(host));
}

/** `mr <args>` inside the host's namespace; resolves the second word of its first stdout line. */
async function onHost(host: string, args: string[]): Promise<string> {
  const child = spawn('ip', ['netns', 'exec', nsOf(host), process.execPath, MR, ...args, '--token-file', tokenFile],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`mr ${args[0]} on ${host} exited with ${code}`)));
  });
  return line.split(' ')[1];
}

describe.skipIf(why !== undefined)('horizontal across hosts (network namespaces)', () => {
  beforeAll(async () => {
    dir = await tempDir();
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, randomBytes(24).toString('base64url'));
    setUpNetwork();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    tearDownNetwork();
    await removeDir(dir);
  });

  it('keeps the job whole when one server host dies mid-job', async () => {
    const balancer = await onHost('lb', ['balancer', '--listen', `${ipOf('lb')}:0`]);
    const master = await onHost('master', ['master', '--listen', `${ipOf('master')}:0`, '--work-dir', join(dir, 'master'),
      '--balancer', balancer, '--shared-dir', join(dir, 'shared')]);
    for (const host of ['s1', 's2']) {
      await onHost(host, ['worker', '--join', balancer, '--listen-host', ipOf(host), '--work-dir', join(dir, host)]);
    }
    const out = join(dir, 'out');
    const run = spawn('ip', ['netns', 'exec', nsOf('master'), process.execPath, MR, 'run', join(FIXTURES, 'slow-reduce.ts'),
      '--input', BOOKS, '--output', out, '--master', master, '--transport', 'horizontal', '--token-file', tokenFile, '--quiet'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(run);
    const result = finished(run);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // into the job
    killNamespace('s1');
    const r = await result;
    expect(r.stderr).toBe(`job ${/job (\S+)/.exec(r.stderr)?.[1]}\n`);
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });
});
