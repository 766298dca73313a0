// Hosts on one machine for tests that need several: each host a network namespace of its own,
// joined to the others by a bridge on private addresses (10.77.x.0/24, x from a random tag), the
// test's own namespace reachable at the bridge's address (.1). With a private dir, every process on
// a host also runs in a mount namespace of its own with a fresh tmpfs on that dir: the same path,
// a different disk on every host, none of it seen by the test. Needs root and `ip netns` (iproute2)
// and `unshare` (util-linux); unavailable() says why not.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { MR, ROOT } from './run-mr.ts';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Why hosts cannot be made here, or undefined when they can. */
export function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const probe = `mrprobe${randomBytes(2).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    execFileSync('unshare', ['--mount', 'true'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

export class Hosts {
  private readonly tag = randomBytes(2).toString('hex');
  private readonly subnet = `10.77.${parseInt(this.tag, 16) % 250}`;
  private readonly bridge = `mrbr${this.tag}`;
  readonly children: ChildProcess[] = [];
  /** What each daemon wrote to stderr (its log), by host: the only copy, its disk being its host's. */
  readonly logs = new Map<string, string[]>();

  /** privateDir: the path every host sees as its own empty disk (a tmpfs in its own mount namespace). */
  constructor(readonly names: string[], private readonly privateDir?: string) {}

  /** The test's own address on the bridge: a server the test starts there is reachable from every host. */
  get gateway(): string {
    return `${this.subnet}.1`;
  }

  addressOf(host: string): string {
    return `${this.subnet}.${this.names.indexOf(host) + 2}`;
  }

  private ns(host: string): string {
    return `mr${this.tag}${host}`;
  }

  setUp(): void {
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    for (const host of this.names) {
      const ns = this.ns(host);
      const [inside, outside] = [`v${this.tag}${host}`.slice(0, 15), `b${this.tag}${host}`.slice(0, 15)];
      ip('netns', 'add', ns);
      ip('link', 'add', inside, 'type', 'veth', 'peer', 'name', outside);
      ip('link', 'set', inside, 'netns', ns);
      ip('link', 'set', outside, 'master', this.bridge);
      ip('link', 'set', outside, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${this.addressOf(host)}/24`, 'dev', inside);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    }
  }

  tearDown(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const host of this.names) {
      try { this.kill(host); } catch { /* already gone */ }
    }
    try { ip('link', 'del', this.bridge); } catch { /* already gone */ }
  }

  /** Kills every process on the host and deletes its namespace: the host is gone, and its disk with it. */
  kill(host: string): void {
    const pids = execFileSync('ip', ['netns', 'pids', this.ns(host)], { encoding: 'utf8', stdio: 'pipe' }).split('\n').filter(Boolean);
    for (const pid of pids) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* exited */ }
    }
    ip('netns', 'del', this.ns(host));
  }

  /** `mr <args>` on the host. */
  spawn(host: string, args: string[], env: NodeJS.ProcessEnv = process.env, stdio: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
    const command = [process.execPath, MR, ...args];
    const onHost = this.privateDir
      // A mount namespace of its own, mounts not shared back, a fresh tmpfs on the private dir.
      ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs mr-host "$0" && exec "$@"', this.privateDir, ...command]
      : command;
    const child = spawn('ip', ['netns', 'exec', this.ns(host), ...onHost], { cwd: ROOT, env, stdio: ['ignore', stdio, stdio] });
    this.children.push(child);
    return child;
  }

  /** A daemon on the host: resolves the second word of its first stdout line (`listening H:P`). */
  async daemon(host: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    const child = this.spawn(host, args, env);
    this.keepLog(host, child);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`mr ${args[0]} on ${host} exited with ${code}`)));
    });
    child.stdout!.resume();
    return line.split(' ')[1];
  }

  private keepLog(host: string, child: ChildProcess): void {
    const log = this.logs.get(host) ?? [];
    this.logs.set(host, log);
    createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  }

  /** A worker daemon on the host: resolves once it has registered with its master. */
  async worker(host: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
    const child = this.spawn(host, ['worker', ...args], env);
    child.stdout!.resume();
    this.keepLog(host, child);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (line.includes('"msg":"registered"')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`mr worker on ${host} exited with ${code} before registering`)));
    });
  }
}
