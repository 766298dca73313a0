// A local etcd member for the ssi backend's agreed state: `mr run --transport ssi` starts one
// itself, as it starts its master and workers, unless `--etcd <endpoints>` names a running
// cluster. It listens on free loopback ports with a data directory of its own (never the
// package's system service on 2379), and is stopped with the run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { MissingProgramError, MrError, UsageError } from '../../errors.ts';

export const ETCD_INSTALL_HINT = 'install it: apt-get install -y etcd-server (or put an etcd binary on PATH), or give --etcd <endpoints> of a running cluster';
const READY_TIMEOUT_MS = 15_000;

/** --etcd: comma-separated client URLs (http://host:port); a usage error for anything else. */
export function parseEtcdEndpoints(text: string, flag = '--etcd'): string[] {
  const endpoints = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const endpoint of endpoints) {
    if (!/^https?:\/\/[^/\s]+:\d+\/?$/.test(endpoint)) throw new UsageError(`${flag} wants client URLs like http://127.0.0.1:2379, comma-separated; got ${JSON.stringify(endpoint)}`);
  }
  if (endpoints.length === 0) throw new UsageError(`${flag} wants at least one client URL, like http://127.0.0.1:2379`);
  return endpoints;
}

/** The etcd binary on PATH (MR_ETCD may name another), or a usage error that says how to install it. */
export function etcdBinary(): string {
  const binary = process.env.MR_ETCD || 'etcd';
  const found = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  if (found.error || found.status !== 0) throw new MissingProgramError(`--transport ssi keeps its cluster state in etcd, which is not installed here: ${ETCD_INSTALL_HINT}`);
  return binary;
}

export interface EtcdMember {
  /** Client URLs, for etcd3's `hosts`. */
  readonly endpoints: string[];
  readonly pid: number;
  stop(): Promise<void>;
}

/** A port no one listens on now (the kernel's pick). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts one member of a cluster of its own, its data in dataDir, and waits until it serves. */
export async function startEtcdMember(dataDir: string): Promise<EtcdMember> {
  const member = await launchEtcdMember(dataDir);
  await member.ready;
  return member;
}

/** One member, started; its endpoints are known at once, `ready` resolves once it serves (so that its clients can start meanwhile). */
export async function launchEtcdMember(dataDir: string): Promise<EtcdMember & { ready: Promise<void> }> {
  const cluster = await launchEtcdCluster(dataDir, 1);
  return { endpoints: cluster.endpoints, pid: cluster.members[0].pid, ready: cluster.ready, stop: () => cluster.stop() };
}

/** One member of a cluster started here. */
export interface ClusterMember {
  readonly endpoint: string;
  readonly pid: number;
  /** kill -9 of the member (a crash, for tests of losing one). */
  kill(): void;
}

export interface EtcdCluster {
  readonly endpoints: string[];
  readonly members: ClusterMember[];
  stop(): Promise<void>;
}

/**
 * Starts a cluster of `size` members on loopback, member i's data in <dataDir>/m<i>, and waits
 * until every one serves (a quorum has elected a leader). With 3, losing one leaves a quorum.
 */
export async function startEtcdCluster(dataDir: string, size: number): Promise<EtcdCluster> {
  const cluster = await launchEtcdCluster(dataDir, size);
  await cluster.ready;
  return cluster;
}

async function launchEtcdCluster(dataDir: string, size: number): Promise<EtcdCluster & { ready: Promise<void> }> {
  const binary = etcdBinary();
  const ports: { name: string; client: string; peer: string }[] = [];
  for (let i = 0; i < size; i++) ports.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  const initialCluster = ports.map((p) => `${p.name}=${p.peer}`).join(',');
  const token = `mr-${process.pid}-${Date.now()}`;   // one for every member: it names the cluster they form
  const started = await Promise.all(ports.map(async (p) => {
    const dir = join(dataDir, p.name);
    await mkdir(dir, { recursive: true });
    return spawnMember(binary, [
      '--name', p.name, '--data-dir', dir, '--logger', 'zap', '--log-level', 'error',
      '--listen-client-urls', p.client, '--advertise-client-urls', p.client,
      '--listen-peer-urls', p.peer, '--initial-advertise-peer-urls', p.peer,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      // A member alone has no peer to miss: it may elect itself after 250 ms rather than etcd's
      // default second (most of a short job's start-up). Members with peers keep the defaults,
      // which a loaded machine's late heartbeats do not turn into elections.
      ...(size === 1 ? ['--heartbeat-interval', '25', '--election-timeout', '250'] : []),
    ]);
  }));
  const ready = Promise.all(started.map((m, i) => waitHealthy(ports[i].client, m.exited))).then(() => {
    for (const { child } of started) {
      child.unref();
      for (const stream of [child.stdin, child.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
    }
  }, (error: unknown) => {
    for (const m of started) killGroup(m.child);
    const said = started.map((m) => m.stderr()).find(Boolean);
    throw new MrError(`etcd did not start: ${(error as Error).message}${said ? ` (${lastLine(said)})` : ''}`);
  });
  ready.catch(() => {});   // the caller awaits it; a failure is theirs to report
  return {
    endpoints: ports.map((p) => p.client),
    members: started.map((m, i) => ({ endpoint: ports[i].client, pid: m.child.pid!, kill: () => killGroup(m.child) })),
    ready,
    async stop() {
      await Promise.all(started.map((m) => stopMember(m.child, m.exited)));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A member, through a shell that holds our pipe: when this process goes, however it goes (kill -9
 * too), the pipe closes and the shell stops the member; SIGTERM to the shell stops it as well.
 * The shell leads a process group of its own, so that a kill -9 of the group takes the member too.
 */
function spawnMember(binary: string, args: string[]): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn('sh', ['-c', `"$@" </dev/null & member=$!; trap 'kill $member; wait $member; exit 0' TERM; read _; kill $member; wait $member`, 'sh', binary, ...args],
    { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
}

async function waitHealthy(client: string, exited: Promise<number | null>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error('it exited');
    try {
      const reply = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) });
      if (reply.ok && ((await reply.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no healthy answer within ${READY_TIMEOUT_MS / 1000} s`);
}

/**
 * Resolves once one of the endpoints takes connections, or after timeoutMs (its client then fails
 * as it would have): a node started beside its etcd member waits for it rather than have its gRPC
 * channel back off for a second after a refused connection. A connection is all it tries (a
 * first fetch() costs a process 100 ms to load): requests sent then wait for the member to be ready.
 */
export async function untilServing(endpoints: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const targets = endpoints.map((endpoint) => new URL(endpoint));
  while (Date.now() < deadline) {
    if ((await Promise.all(targets.map(accepts))).some(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function accepts(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function stopMember(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => killGroup(child), 3000);
    await exited;
    clearTimeout(timer);
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()!.slice(0, 300);
}
