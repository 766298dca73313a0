// A stateless worker server of the horizontal backend: it is sent whole tasks (RunTask, through
// the balancer), runs each with what the request carries (the task, the master to ask before
// committing, the shared store for map outputs) and answers with the report. It keeps nothing a
// peer could not do without, so any server may serve any request, and one may be lost at any
// time. SIGTERM drains it: it leaves the balancer, finishes what it runs, and exits.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connectBalancer, type BalancerClient } from './balancer/balancer-client.ts';
import { TaskError, UsageError, oneLine } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { processStats } from '../../process-stats.ts';
import type { TlsMaterial } from '../../wires/grpc/credentials.ts';
import type * as M from '../../wires/messages.ts';
import type { MasterClient, Server, Transport } from '../../wires/transport.ts';
import { runAttempt } from '../../worker/attempt-runner.ts';
import { isObjectUrl } from '../../storage/object-store.ts';
import { ObjectOutputStore } from './object-output-store.ts';
import { SharedOutputStore } from './shared-output-store.ts';

export interface TaskServerOptions {
  transport: Transport;
  token?: string;
  tls?: TlsMaterial;
  workDir: string;
  listenHost: string;
  listenPort?: number;           // default 0: a free one
  join?: string;                 // the balancer to join, host:port; or several, comma-separated (a pair)
  slots?: number;                // requests it takes at once (default 1); more wait at the balancer
  log: Logger;
}

/** How often a server joins its balancers again (a balancer that restarted learns of it then). */
const REJOIN_MS = 2000;

/** How long a finished attempt's report answers a repeated RunTask (longer than any retry takes). */
const RUN_MEMORY_MS = 5 * 60_000;

export class TaskServer {
  readonly id = `s-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private server?: Server;
  private readonly masters = new Map<string, MasterClient>();
  private readonly stores = new Map<string, SharedOutputStore | ObjectOutputStore>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Each attempt's run, by attempt id, while it runs and for a while after (see runOnce). */
  private readonly runs = new Map<string, { report: Promise<M.AttemptReport>; controller: AbortController; callers: number; settled: boolean }>();
  private draining = false;
  private balancers: BalancerClient[] = [];
  private rejoin?: NodeJS.Timeout;

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
    }, `${this.options.listenHost}:${this.options.listenPort ?? 0}`);
    if (this.options.join) await this.joinBalancers(this.server.address);
    this.options.log.info('serving', { serverId: this.id, address: this.server.address, balancer: this.options.join });
    return this.server.address;
  }

  /**
   * Joins every balancer given (a pair shares the farm's membership): once at least one has it,
   * the server serves; it joins each again every REJOIN_MS, so that a balancer that restarts, or
   * was away, has it again (a join is idempotent).
   */
  private async joinBalancers(address: string): Promise<void> {
    const balancers = this.options.join!.split(',').map((a) => a.trim()).filter(Boolean).map((a) => connectBalancer(a, this.options.token, this.options.tls));
    this.balancers = balancers;
    const slots = this.options.slots ?? 1;
    await Promise.any(balancers.map((b) => b.join(address, slots))).catch((error: AggregateError) => {
      for (const b of balancers) b.close();
      throw error.errors[0];
    });
    const joining = new Set<BalancerClient>();
    this.rejoin = setInterval(() => {
      for (const b of balancers) {
        if (joining.has(b) || this.draining) continue;
        joining.add(b);
        void b.join(address, slots).catch(() => undefined).finally(() => joining.delete(b));
      }
    }, REJOIN_MS);
    this.rejoin.unref();
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  /**
   * A RunTask for an attempt this server runs or ran lately gets that run's report: a request sent
   * twice (a duplicate in the network, a retry whose first reply was lost, the same task sent on by
   * the other balancer of a pair when the first went away) runs its attempt once here. Another
   * server may run it too (fail-over); that is safe, each run writes under names of its own. A run
   * is cancelled once every request waiting for it is (their callers all went away), and is not
   * kept then: the next request runs the attempt again.
   */
  private runOnce(req: M.RunTaskRequest, signal?: AbortSignal): Promise<M.AttemptReport> {
    const { task } = req;
    if (!task) return Promise.reject(new TaskError('a RunTask request without its task'));
    const id = task.attemptId;
    let run = this.runs.get(id);
    if (!run) {
      const controller = new AbortController();
      const started = { report: this.track(this.runTask(req, task, controller.signal)), controller, callers: 0, settled: false };
      this.runs.set(id, started);
      const forget = () => {
        if (this.runs.get(id) === started) this.runs.delete(id);
      };
      started.report.then(() => setTimeout(forget, RUN_MEMORY_MS).unref(), forget).finally(() => (started.settled = true));
      run = started;
    }
    const joined = run;
    joined.callers++;
    signal?.addEventListener('abort', () => {
      if (--joined.callers > 0 || joined.settled) return;
      joined.controller.abort();
      if (this.runs.get(id) === joined) this.runs.delete(id);
    }, { once: true });
    return joined.report;
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

  /** The store the master names: a directory every server mounts, or a prefix of an object store. */
  private storeFor(sharedDir: string): SharedOutputStore | ObjectOutputStore {
    if (!sharedDir) throw new UsageError('the task request names no shared store');
    let store = this.stores.get(sharedDir);
    if (!store) {
      store = isObjectUrl(sharedDir) ? new ObjectOutputStore(sharedDir, this.options.workDir) : new SharedOutputStore(sharedDir);
      this.stores.set(sharedDir, store);
    }
    return store;
  }

  private masterFor(address: string): MasterClient {
    let master = this.masters.get(address);
    if (!master) this.masters.set(address, (master = this.options.transport.connectMaster(address)));
    return master;
  }

  /** Leaves the balancers (no new requests), lets the running tasks finish, then stops. */
  async drain(): Promise<void> {
    this.draining = true;
    clearInterval(this.rejoin);
    if (this.server) {
      const address = this.server.address;
      await Promise.all(this.balancers.map((b) => b.leave(address).catch((error) => this.options.log.warn('could not leave a balancer', { error: oneLine(error) }))));
    }
    await Promise.allSettled([...this.inFlight]);
    await this.stop();
  }

  async stop(): Promise<void> {
    clearInterval(this.rejoin);
    for (const b of this.balancers) b.close();
    for (const master of this.masters.values()) master.close();
    await Promise.all([...this.stores.values()].map((store) => store.cleanup()));
    await this.server?.stop();
  }
}

/** A map output that is not in the shared store: lost, so the reduce reports it and the map runs again. */
async function* missing(output: M.MapOutput): AsyncGenerator<Buffer> {
  throw new UsageError(`map output ${output.outputId} is not in the shared store`);
}
