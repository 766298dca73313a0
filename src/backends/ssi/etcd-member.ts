// A local etcd member for the ssi backend's agreed state: `mr run --transport ssi` starts one
// itself, as it starts its master and workers, unless `--etcd <endpoints>` names a running
// cluster. It listens on free loopback ports with a data directory of its own (never the
// package's system service on 2379), and is stopped with the run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { MissingProgramError, MrError, UsageError } from '../../errors.ts';

export const ETCD_INSTALL_HINT = 'install it: apt-get install -y etcd-server (or put an etcd binary on PATH), or give --etcd <endpoints> of a running cluster';
const READY_TIMEOUT_MS = 15_000;

/** --etcd: comma-separated client URLs (http://host:port); a usage error for anything else. */
export function parseEtcdEndpoints(text: string): string[] {
  const endpoints = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const endpoint of endpoints) {
    if (!/^https?:\/\/[^/\s]+:\d+\/?$/.test(endpoint)) throw new UsageError(`--etcd wants client URLs like http://127.0.0.1:2379, comma-separated; got ${JSON.stringify(endpoint)}`);
  }
  if (endpoints.length === 0) throw new UsageError('--etcd wants at least one client URL, like http://127.0.0.1:2379');
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

/** Starts one member of a cluster of its own (name `mr`), its data in dataDir, and waits until it serves. */
export async function startEtcdMember(dataDir: string, options: { name?: string } = {}): Promise<EtcdMember> {
  const binary = etcdBinary();
  await mkdir(dataDir, { recursive: true });
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const name = options.name ?? 'mr';
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  // Through a shell that holds our pipe: when this process goes, however it goes (kill -9 too),
  // the pipe closes and the shell stops the member; SIGTERM to the shell stops it as well.
  const child = spawn('sh', ['-c', `"$@" </dev/null & member=$!; trap 'kill $member; wait $member; exit 0' TERM; read _; kill $member; wait $member`, 'sh', binary,
    '--name', name, '--data-dir', dataDir, '--logger', 'zap', '--log-level', 'error',
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `${name}=${peer}`, '--initial-cluster-state', 'new',
  ], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitHealthy(client, exited);
  } catch (error) {
    child.kill('SIGKILL');
    throw new MrError(`etcd did not start: ${(error as Error).message}${stderr ? ` (${lastLine(stderr)})` : ''}`);
  }
  child.unref();
  for (const stream of [child.stdin, child.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
  return { endpoints: [client], pid: child.pid!, stop: () => stopMember(child, exited, dataDir) };
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

async function stopMember(child: ChildProcess, exited: Promise<number | null>, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dataDir, { recursive: true, force: true });
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()!.slice(0, 300);
}
