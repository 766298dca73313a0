// `mr master` and `mr worker`: long-running daemons, stopped cleanly by SIGINT/SIGTERM.
import { namedTransport } from './transport-arg.ts';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, UsageError, oneLine } from '../errors.ts';
import { reached } from '../process-stats.ts';
import { createLogger } from '../log.ts';
import { Master } from '../master/master.ts';
import type { Transport } from '../wires/index.ts';
import { backendNamed } from '../backends/index.ts';
import { parseEtcdEndpoints } from '../backends/ssi/etcd-member.ts';
import { ClusterState } from '../backends/ssi/cluster-state.ts';
import { TaskServer } from '../backends/horizontal/task-server.ts';
import { startDispatcher } from '../backends/horizontal/dispatcher.ts';
import { Worker } from '../worker/worker.ts';
import { readToken, requireTokenBeyondLoopback, type TokenArgs } from './token-args.ts';
import { readTls, type TlsArgs } from './tls-args.ts';
import type { TlsMaterial } from '../wires/grpc/credentials.ts';
import { scheduleRestarts } from '../wires/chaos/chaos-restart.ts';
import { ChaosNode } from '../wires/chaos/chaos-node.ts';
import { readChaos, type ChaosArgs } from './chaos-args.ts';
import { parseHttpBind, requireTokenForHttp } from '../http/http-address.ts';
import type { MasterHttp } from '../http/master-http.ts';
import { isObjectUrl } from '../storage/object-store.ts';
import { dropJobMapOutputs } from '../backends/horizontal/shared-store-cleanup.ts';

interface WorkerArgs extends TokenArgs, TlsArgs, ChaosArgs {
  master?: string;
  join?: string;
  workDir: string;
  slots: number;
  transport: string;
  listenHost: string;
  listenPort: number;
  exitWithParent?: boolean;
  masterOnStdin?: boolean;        // mr run's own workers: the master's address comes as stdin's first line
  chaosName?: string;
  chaosEpochMs?: number;
  etcd?: string;
}

interface MasterArgs extends TokenArgs, TlsArgs, ChaosArgs {
  listen: string;
  workDir: string;
  transport: string;
  leaseMs: number;
  workerTimeoutMs: number;
  taskTimeout?: number;
  balancer?: string;
  sharedDir?: string;
  dispatchSlots: number;
  http?: string;
  etcd?: string;
  ha?: string;
  haName: string;
}

/** node: the daemon's node name for --chaos (master, or the worker's --chaos-name). */
function transportOf(name: string, token: string | undefined, tls: TlsMaterial | undefined, args: ChaosArgs & { chaosEpochMs?: number }, node: string): Transport {
  const settings = readChaos(args);
  // A daemon counts partition windows from its own start, unless mr run, which started it, gave its own.
  const chaos = settings && new ChaosNode({ ...settings, epochMs: args.chaosEpochMs ?? Date.now() }, node);
  if (chaos) {
    scheduleRestarts(chaos.settings, node, () => {
      process.stderr.write(`mr: chaos: restart=${node}: this process is killed now (SIGKILL)\n`);
      process.kill(process.pid, 'SIGKILL');
    });
  }
  const transport = namedTransport(name, { token, tls, chaos });
  if (!transport.capabilities.multiProcess) throw new UsageError(`--transport ${name} runs everything inside mr run; it has no daemons`);
  if (chaos && !transport.capabilities.faultInjection) throw new UsageError(`--transport ${name} cannot carry --chaos (not every message of a job passes through its transport)`);
  return transport;
}

export async function workerCommand(args: WorkerArgs): Promise<void> {
  if (!Number.isInteger(args.slots) || args.slots < 1) throw new UsageError(`--slots must be a whole number of at least 1, got ${args.slots}`);
  const token = readToken(args);
  const tls = readTls(args);
  requireTokenBeyondLoopback('--listen-host', args.listenHost, token, tls);
  const workDir = resolve(args.workDir);
  await mkdir(workDir, { recursive: true });
  if (args.join) return serverCommand(args, token, tls, workDir);
  if (!args.master && !args.masterOnStdin) throw new UsageError('give --master host:port (a worker daemon), or --join host:port (a stateless server behind a balancer)');
  const transport = transportOf(args.transport, token, tls, args, args.chaosName ?? `worker-${process.pid}`);
  const etcd = args.etcd === undefined ? undefined : parseEtcdEndpoints(String(args.etcd));
  if (etcd && args.transport !== 'ssi') throw new UsageError(`--etcd applies to --transport ssi, not ${args.transport}`);
  // ssi: its map output store, the /cluster namespace, and its membership of the cluster in etcd.
  const { membership, ...parts } = backendNamed(args.transport)?.workerParts?.({ workDir, transport, master: args.master, etcd }) ?? {};
  const log = createLogger({ component: 'worker' });
  const worker = new Worker({
    masterAddress: args.master ?? firstLineOfStdin(), workDir, slots: args.slots, transport,
    listenHost: args.listenHost, listenPort: args.listenPort, log, watchdog: true, pulse: { transport: args.transport, token, tls }, ...parts,
  });
  let leave: (() => Promise<void>) | undefined;
  const stop = () => void worker.stop().then(() => leave?.()).then(() => process.exit(EXIT.ok));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (args.exitWithParent) {
    // The parent holds our stdin open; when it dies, the pipe closes and we go too.
    process.stdin.on('end', stop).on('close', stop).resume();
  }
  // A node joins the cluster before it takes any work. A member that can no longer prove it is
  // alive stops at once: the cluster has given its work to others, and two copies of an attempt
  // must never both commit.
  leave = await membership?.join({ workerId: worker.id, pid: process.pid, host: hostname() }, (why) => {
    log.error('left the cluster', { reason: why });
    process.stderr.write(`mr worker: ${why}; stopping\n`);
    process.exit(EXIT.jobFailed);
  });
  await worker.start();
  await worker.stopped;
  await leave?.();
  process.exit(EXIT.ok);
}

/**
 * The first line of stdin: mr run starts its workers before its master listens, and then writes
 * them its address. Stdin closing first means the parent is gone, and this process goes too.
 */
function firstLineOfStdin(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline < 0) return;
      process.stdin.off('data', onData);
      resolve(text.slice(0, newline).trim());
    };
    process.stdin.on('data', onData).once('end', () => process.exit(EXIT.ok)).resume();
  });
}

/** `mr worker --join H:P`: a stateless task server of the horizontal backend; SIGTERM drains it. */
async function serverCommand(args: WorkerArgs, token: string | undefined, tls: TlsMaterial | undefined, workDir: string): Promise<void> {
  const server = new TaskServer({
    transport: transportOf(args.transport, token, tls, args, args.chaosName ?? `worker-${process.pid}`), token, tls, workDir, listenHost: args.listenHost, listenPort: args.listenPort, join: args.join,
    slots: args.slots,
    log: createLogger({ component: 'server' }),
  });
  let draining = false;
  const drain = () => {
    if (draining) process.exit(EXIT.ok);
    draining = true;
    void server.drain().then(() => process.exit(EXIT.ok));
  };
  process.on('SIGINT', drain);
  process.on('SIGTERM', drain);
  if (args.exitWithParent) process.stdin.on('end', drain).on('close', drain).resume();
  const address = await server.start();
  process.stdout.write(`serving ${address}\n`);
}

export async function masterCommand(args: MasterArgs): Promise<void> {
  const token = readToken(args);
  const tls = readTls(args);
  requireTokenBeyondLoopback('--listen', args.listen.slice(0, args.listen.lastIndexOf(':')), token, tls);
  const http = args.http === undefined ? undefined : await statusHttp(args.http, token);
  const workDir = resolve(args.workDir);
  await mkdir(workDir, { recursive: true });
  for (const [flag, value] of [['--lease-ms', args.leaseMs], ['--worker-timeout-ms', args.workerTimeoutMs]] as const) {
    if (!Number.isInteger(value) || value < 100) throw new UsageError(`${flag} must be a whole number of milliseconds, at least 100`);
  }
  if (args.taskTimeout !== undefined && !(Number.isFinite(args.taskTimeout) && args.taskTimeout >= 0)) {
    throw new UsageError(`--task-timeout must be a number of seconds, 0 or more (0: no timeout), got ${String(args.taskTimeout)}`);
  }
  const transport = transportOf(args.transport, token, tls, args, 'master');
  const etcd = args.etcd === undefined ? undefined : parseEtcdEndpoints(String(args.etcd));
  if (etcd && args.transport !== 'ssi') throw new UsageError(`--etcd applies to --transport ssi, not ${args.transport}`);
  const ha = args.ha === undefined ? undefined : parseEtcdEndpoints(String(args.ha), '--ha');
  if (ha && /:0$/.test(args.listen)) {
    throw new UsageError('--ha needs --listen host:port with a fixed port: the clients of masters that stand in for each other are given every address (--master a,b)');
  }
  let agreed: ClusterState | undefined;   // ssi with --etcd: the cluster's agreed state, once the master's address is known
  if (args.balancer && !args.sharedDir) throw new UsageError('--balancer needs --shared-dir: the directory every server keeps map outputs in, or an s3:// prefix');
  const sharedDir = args.sharedDir === undefined ? undefined : isObjectUrl(args.sharedDir) ? args.sharedDir.replace(/\/+$/, '') : resolve(args.sharedDir);
  const log = createLogger({ component: 'master', file: join(workDir, 'master.log'), echo: true });
  const master = new Master({
    log,
    // horizontal: a job's map outputs leave the shared store when it is over.
    ...(args.balancer && sharedDir ? {
      onJobEnd: (jobId: string) => void dropJobMapOutputs(sharedDir, jobId).catch((error: unknown) => log.warn('could not remove the job\'s map outputs', { jobId, error: oneLine(error) })),
    } : {}),
    leaseMs: args.leaseMs,
    workerTimeoutMs: args.workerTimeoutMs,
    ...(args.taskTimeout === undefined ? {} : { taskTimeoutMs: Math.round(args.taskTimeout * 1000) }),
    journalPath: join(workDir, 'journal.jsonl'),
    chaosCounts: () => transport.chaos?.counts,
    onAttemptEnd: http?.onAttemptEnd,
    onProcess: (record) => agreed?.publish(record),
  });
  if (ha) await leadThenRecover(master, ha, args.haName, args.listen);
  else await master.recover();
  // The status server binds first, so that a port already taken fails before `listening` is printed.
  const httpAddress = http && await http.start(master, createLogger({ component: 'http', file: join(workDir, 'master.log') }));
  const server = await transport.serveMaster(master, args.listen);
  reached('ready');
  if (etcd) {
    // The cluster is named by the address its workers know the master by. A master restarted on
    // it finds the process table agreed before: shown by mr ps, new ids after its; no task is
    // handed out before it is read.
    agreed = new ClusterState(etcd, server.address);
    const state = agreed;
    const earlier = state.readProcesses();
    master.holdTasksUntil(earlier);
    master.restoreProcesses(await earlier.catch((error: unknown) => {
      process.stderr.write(`mr master: could not read the agreed process table from etcd (${(error as Error).message}); mr ps starts empty\n`);
      return [];
    }));
    await agreed.mirrorMembers((gone, why) => void master.workerLost(gone.workerId, why));
  }
  process.stdout.write(`listening ${server.address}\n`);
  if (httpAddress) process.stdout.write(`http ${httpAddress}\n`);
  // horizontal: tasks go through the balancer to stateless servers, sent by a dispatcher here.
  const dispatcher = args.balancer ? await startDispatcher({
    masterAddress: server.address, balancerAddress: args.balancer, sharedDir: sharedDir!, slots: args.dispatchSlots,
    transport, token, tls, workDir: join(workDir, 'dispatcher'), log: createLogger({ component: 'dispatcher', file: join(workDir, 'dispatcher.log') }),
  }) : undefined;
  const stop = () => {
    master.stop();
    void Promise.all([dispatcher?.close(), server.stop(), http?.close(), agreed?.close()]).then(() => process.exit(EXIT.ok));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}

/**
 * mr master --ha: campaigns until elected (a standby says so and waits), then replays the
 * journal every leader kept in etcd, and journals there from now on, fenced on its leadership.
 * A leader that loses its leadership exits at once: another has been, or is being, elected.
 */
async function leadThenRecover(master: Master, endpoints: string[], name: string, address: string): Promise<void> {
  const { campaignToLead } = await import('../master/master-election.ts');
  const { EtcdJournal } = await import('../master/etcd-journal.ts');
  const stop = (why: string): never => {
    process.stderr.write(`mr master: ${why}\n`);
    process.exit(EXIT.jobFailed);
  };
  const leadership = await campaignToLead(endpoints, name, address, stop, (leader) => process.stdout.write(`standby: ${leader} leads\n`));
  const { records, next } = await EtcdJournal.read(leadership.client, name);
  await master.recoverFrom(records, new EtcdJournal(leadership.client, name, next, leadership.fenceKey, stop));
}

/** --http host:port: checked before anything starts; its code (and prom-client) loads only when asked for. */
export async function statusHttp(value: string, token: string | undefined): Promise<MasterHttp> {
  const bind = parseHttpBind('--http', value);
  requireTokenForHttp('--http', bind, token);
  return (await import('../http/master-http.ts')).prepareMasterHttp(bind, bind.loopback ? undefined : token);
}
