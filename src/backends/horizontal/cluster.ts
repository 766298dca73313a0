// `mr run --transport horizontal`: the cloud shape on one machine. A balancer (in this process)
// fronts stateless server processes (`mr worker --join`); a dispatcher (a Worker that sends its
// tasks on instead of running them) takes tasks from the master and sends each through the
// balancer; map outputs go to a shared store. With --autoscale min..max, servers are started
// while tasks queue up and stopped when idle; the report shows how many there were over time.
import { join } from 'node:path';
import { Balancer } from './balancer/balancer.ts';
import { connectBalancer, type BalancerClient } from './balancer/balancer-client.ts';
import { createLogger, silentLogger } from '../../log.ts';
import type { ChaosSettings } from '../../wires/chaos/chaos-node.ts';
import type { Transport } from '../../wires/index.ts';
import { startDispatcher } from './dispatcher.ts';
import { ProcessPool } from '../../pools/process-pool.ts';
import type { Pool } from '../../pools/pool.ts';
import { DEFAULT_SCALE_POLICY, scaleDecision } from '../../core/autoscale.ts';
import { localProcesses, type ServerProvider } from './server-provider.ts';

/** Requests a server started here takes at once (mr worker --join's default --slots): more wait at the balancer. */
const SERVER_SLOTS = 1;

export interface Autoscale {
  min: number;
  max: number;
}

export interface HorizontalClusterOptions {
  servers: number;               // without autoscale
  autoscale?: Autoscale;
  masterAddress: string;
  workRoot: string;
  transport: Transport;
  transportName: string;
  token: string;
  chaos?: ChaosSettings;         // servers get it as worker-<slot>; the balancer's sends go through transport.chaos
  onAllExited?: (why: string) => void;
}

const SCALE_EVERY_MS = 250;

export class HorizontalCluster implements Pool {
  private readonly balancer: Balancer;
  private client?: BalancerClient;
  private pool?: ProcessPool;
  private dispatcher?: { close(): Promise<void> };
  private scaler?: NodeJS.Timeout;
  private provider?: ServerProvider;
  private readonly startedMs = Date.now();
  private idleSinceMs?: number;
  private grewAtMs = Date.now();
  /** How many servers there were, each time that changed. */
  readonly timeline: { atMs: number; servers: number }[] = [];

  constructor(private readonly options: HorizontalClusterOptions) {
    this.balancer = new Balancer({ token: options.token, chaos: options.transport.chaos, log: createLogger({ component: 'balancer', file: join(options.workRoot, 'balancer.log') }) });
  }

  get failovers(): number {
    return this.balancer.failovers;
  }

  get maxServers(): number {
    return Math.max(0, ...this.timeline.map((t) => t.servers));
  }

  async start(): Promise<void> {
    const { options } = this;
    const address = await this.balancer.start('127.0.0.1:0');
    this.client = connectBalancer(address, options.token);
    const initial = options.autoscale?.min ?? options.servers;
    this.pool = new ProcessPool({
      count: initial, masterAddress: address, join: true, workRoot: join(options.workRoot, 'servers'),
      transport: options.transportName, token: options.token, chaos: options.chaos, onAllExited: options.onAllExited,
    });
    await this.pool.start();
    this.provider = localProcesses(this.pool);
    await this.waitForServers(initial);
    this.record(initial);
    this.dispatcher = await startDispatcher({
      masterAddress: options.masterAddress, balancerAddress: address, sharedDir: join(options.workRoot, 'shared'),
      slots: options.autoscale?.max ?? options.servers, transport: options.transport, token: options.token,
      workDir: join(options.workRoot, 'dispatcher'), log: silentLogger,
    });
    if (options.autoscale) this.scaler = setInterval(() => void this.scale(options.autoscale!), SCALE_EVERY_MS);
  }

  private async waitForServers(count: number): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const { servers } = await this.client!.listServers();
      if (servers.filter((s) => s.healthy).length >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private record(servers: number): void {
    const last = this.timeline[this.timeline.length - 1];
    if (last?.servers !== servers) this.timeline.push({ atMs: Date.now() - this.startedMs, servers });
  }

  /** Grows while requests wait at the balancer for a free slot, shrinks once a server has been idle a while (core/autoscale.ts). */
  private async scale({ min, max }: Autoscale): Promise<void> {
    const provider = this.provider!;
    // Joined: healthy, or taken out for now (a job function holding its loop fails its health
    // checks): either way not one still starting.
    const joined = this.balancer.servers().filter((s) => !s.leaving);
    const serving = joined.filter((s) => s.healthy);
    const { queued } = this.balancer;
    const now = Date.now();
    if (queued === 0 && serving.some((s) => s.outstanding === 0)) this.idleSinceMs ??= now;
    else this.idleSinceMs = undefined;
    const decision = scaleDecision({
      size: provider.size, serving: serving.length, starting: Math.max(0, provider.size - joined.length), queued, slotsPerServer: SERVER_SLOTS,
      idleMs: this.idleSinceMs === undefined ? 0 : now - this.idleSinceMs, sinceGrowthMs: now - this.grewAtMs,
    }, { min, max, ...DEFAULT_SCALE_POLICY });
    if (decision > 0) {
      await provider.start(decision);
      this.grewAtMs = now;
    } else if (decision < 0 && provider.stopOne()) {
      this.idleSinceMs = undefined;
    }
    this.record(provider.size);
  }

  async stop(graceMs: number): Promise<void> {
    clearInterval(this.scaler);
    await this.dispatcher?.close();
    await this.pool?.stop(graceMs);
    this.client?.close();
    await this.balancer.stop();
  }
}
