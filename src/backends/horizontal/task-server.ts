// A stateless worker server of the horizontal backend: it is sent whole tasks (RunTask, through
// the balancer), runs each with what the request carries (the task, the master to ask before
// committing, the shared store for map outputs) and answers with the report. It keeps nothing a
// peer could not do without, so any server may serve any request, and one may be lost at any
// time. SIGTERM drains it: it leaves the balancer, finishes what it runs, and exits.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connectBalancer } from './balancer/balancer-client.ts';
import { TaskError, UsageError, oneLine } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { processStats } from '../../process-stats.ts';
import type { TlsMaterial } from '../../wires/grpc/credentials.ts';
import type * as M from '../../wires/messages.ts';
import type { MasterClient, Server, Transport } from '../../wires/transport.ts';
import { runAttempt } from '../../worker/attempt-runner.ts';
import { SharedOutputStore } from './shared-output-store.ts';

export interface TaskServerOptions {
  transport: Transport;
  token?: string;
  tls?: TlsMaterial;
  workDir: string;
  listenHost: string;
  join?: string;                 // the balancer to join, host:port
  log: Logger;
}

/** How long a finished attempt's report answers a repeated RunTask (longer than any retry takes). */
const RUN_MEMORY_MS = 5 * 60_000;

export class TaskServer {
  readonly id = `s-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private server?: Server;
  private readonly masters = new Map<string, MasterClient>();
  private readonly stores = new Map<string, SharedOutputStore>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Each attempt's run, by attempt id, while it runs and for a while after (see runOnce). */
  private readonly runs = new Map<string, Promise<M.AttemptReport>>();
  private draining = false;

  constructor(private readonly options: TaskServerOptions) {}

  get address(): string {
    return this.server?.address ?? '';
  }

  async start(): Promise<string> {
    this.server = await this.options.transport.serveWorker({
      fetchPartition: () => {
        throw new UsageError('a stateless server keeps no map outputs: they are in the shared store');
      },
      runTask: (req, signal) => this.runOnce(req, signal),
    }, `${this.options.listenHost}:0`);
    if (this.options.join) {
      const balancer = connectBalancer(this.options.join, this.options.token, this.options.tls);
      try {
        await balancer.join(this.server.address);
      } finally {
        balancer.close();
      }
    }
    this.options.log.info('serving', { serverId: this.id, address: this.server.address, balancer: this.options.join });
    return this.server.address;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  /**
   * A RunTask for an attempt this server runs or ran lately gets that run's report: a request sent
   * twice (a duplicate in the network, a retry whose first reply was lost) runs its attempt once
   * here. Another server may run it too (fail-over); that is safe, each run writes under names of
   * its own. A run cancelled by its caller is not kept: the next request runs the attempt again.
   */
  private runOnce(req: M.RunTaskRequest, signal?: AbortSignal): Promise<M.AttemptReport> {
    const { task } = req;
    if (!task) return Promise.reject(new TaskError('a RunTask request without its task'));
    const id = task.attemptId;
    const known = this.runs.get(id);
    if (known) return known;
    const run = this.track(this.runTask(req, task, signal));
    this.runs.set(id, run);
    const forget = () => this.runs.delete(id);
    run.then(() => setTimeout(forget, RUN_MEMORY_MS).unref(), forget);
    signal?.addEventListener('abort', forget, { once: true });
    return run;
  }

  private async runTask(req: M.RunTaskRequest, task: M.Task, signal?: AbortSignal): Promise<M.AttemptReport> {
    if (this.draining) throw new UsageError(`server ${this.address} is draining`);
    const store = this.storeFor(req.sharedDir);
    const master = this.masterFor(req.masterAddress);
    const outcome = await runAttempt(task, {
      store,
      scratchDir: join(this.options.workDir, 'reduce-in'),
      fetch: (output) => missing(output),
      commit: async (attemptId) => (await master.commitAttempt({ workerId: req.workerId, attemptId })).allowed,
    }, signal ?? new AbortController().signal);
    if (!outcome.ok) this.options.log.warn('attempt failed', { attemptId: task.attemptId, error: outcome.error });
    const stats = processStats('server', this.id, this.options.transport.chaos?.counts);
    return { ...outcome, workerId: this.id, stats, wantTask: false, ownDeath: false };
  }

  private storeFor(sharedDir: string): SharedOutputStore {
    if (!sharedDir) throw new UsageError('the task request names no shared store');
    let store = this.stores.get(sharedDir);
    if (!store) this.stores.set(sharedDir, (store = new SharedOutputStore(sharedDir)));
    return store;
  }

  private masterFor(address: string): MasterClient {
    let master = this.masters.get(address);
    if (!master) this.masters.set(address, (master = this.options.transport.connectMaster(address)));
    return master;
  }

  /** Leaves the balancer (no new requests), lets the running tasks finish, then stops. */
  async drain(): Promise<void> {
    this.draining = true;
    if (this.options.join && this.server) {
      const balancer = connectBalancer(this.options.join, this.options.token, this.options.tls);
      await balancer.leave(this.server.address).catch((error) => this.options.log.warn('could not leave the balancer', { error: oneLine(error) }));
      balancer.close();
    }
    await Promise.allSettled([...this.inFlight]);
    await this.stop();
  }

  async stop(): Promise<void> {
    for (const master of this.masters.values()) master.close();
    await Promise.all([...this.stores.values()].map((store) => store.cleanup()));
    await this.server?.stop();
  }
}

/** A map output that is not in the shared store: lost, so the reduce reports it and the map runs again. */
async function* missing(output: M.MapOutput): AsyncGenerator<Buffer> {
  throw new UsageError(`map output ${output.outputId} is not in the shared store`);
}
