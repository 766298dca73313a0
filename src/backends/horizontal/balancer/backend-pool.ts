// The worker servers behind the balancer: who is healthy, who is leaving, how loaded each is, and
// the periodic health probe that takes a server out and puts it back.
import type * as grpc from '@grpc/grpc-js';
import { oneLine } from '../../../errors.ts';
import type { Logger } from '../../../log.ts';
import { channelCredentials, type TlsMaterial } from '../../../wires/grpc/credentials.ts';
import { loadProto } from '../../../wires/grpc/proto.ts';
import { bearer } from '../../../wires/grpc/token.ts';
import type { ServerState } from '../../../wires/messages.ts';
import { checkHealth } from './balancer-proto.ts';

const HEALTH_DEADLINE_MS = 1000;
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 16 << 20,
  // A server that restarts on the same address should be found by the next probes, not after
  // grpc's default reconnect backoff of up to two minutes.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2000,
};

export interface Backend {
  readonly address: string;
  readonly client: grpc.Client;
  healthy: boolean;        // false until its first probe passes
  leaving: boolean;
  outstanding: number;
  /** Requests it takes at once (0: no limit): more wait at the balancer, for it or another. */
  slots: number;
  served: number;
  failed: number;
  probing: boolean;        // a probe is in flight: never two at once for one server
  probed: boolean;         // its first probe has answered: until then a failure is news too
}

export interface BackendPoolOptions {
  token?: string;
  tls?: TlsMaterial;
  healthIntervalMs: number;
  log: Logger;
}

export class BackendPool {
  private readonly backends = new Map<string, Backend>(); // insertion order breaks the last ties
  private timer: NodeJS.Timeout | undefined;
  /** Requests waiting for a server with a free slot, woken when one may have one. */
  private waiting: (() => void)[] = [];

  constructor(private readonly options: BackendPoolOptions) {}

  startProbing(): void {
    this.timer ??= setInterval(() => {
      for (const backend of this.backends.values()) void this.probe(backend);
    }, this.options.healthIntervalMs);
    this.timer.unref();
    for (const backend of this.backends.values()) void this.probe(backend);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const backend of this.backends.values()) backend.client.close();
    this.backends.clear();
  }

  /** Adds the server, or takes back one that is leaving; resolves after its first probe. slots: see Backend. */
  async join(address: string, slots = 0): Promise<void> {
    let backend = this.backends.get(address);
    if (backend) {
      if (backend.leaving) this.options.log.info('server rejoined', { address });
      backend.leaving = false;
      backend.slots = slots;
      this.wake();
      return;
    }
    const { Worker } = loadProto();
    const client = new Worker(address, channelCredentials(this.options.tls), CHANNEL_OPTIONS) as unknown as grpc.Client;
    backend = { address, client, healthy: false, leaving: false, outstanding: 0, slots, served: 0, failed: 0, probing: false, probed: false };
    this.backends.set(address, backend);
    this.options.log.info('server joined', { address });
    if (this.timer) await this.probe(backend);
  }

  /** False when the server is not in the pool. In-flight requests finish; then it is dropped. */
  leave(address: string): boolean {
    const backend = this.backends.get(address);
    if (!backend) return false;
    if (!backend.leaving) this.options.log.info('server leaving', { address, outstanding: backend.outstanding });
    backend.leaving = true;
    this.dropIfDrained(backend);
    return true;
  }

  /** The least loaded usable server with a free slot: fewest outstanding, then fewest served, then the first. */
  pick(): Backend | undefined {
    let best: Backend | undefined;
    for (const b of this.backends.values()) {
      if (!b.healthy || b.leaving || (b.slots > 0 && b.outstanding >= b.slots)) continue;
      if (!best || b.outstanding < best.outstanding || (b.outstanding === best.outstanding && b.served < best.served)) best = b;
    }
    return best;
  }

  begin(backend: Backend): void {
    backend.outstanding++;
  }

  end(backend: Backend): void {
    backend.outstanding--;
    this.dropIfDrained(backend);
    this.wake();
  }

  /** Resolves when a server may have a free slot (one ended a request, joined, came back), or after ms. */
  freed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiting.push(done);
    });
  }

  private wake(): void {
    for (const done of this.waiting.splice(0)) done();
  }

  /** A request to it failed in transport: out until a probe passes again. */
  markFailed(backend: Backend, error: unknown): void {
    backend.failed++;
    this.setHealthy(backend, false, oneLine(error));
  }

  states(): ServerState[] {
    return [...this.backends.values()].map(({ address, healthy, outstanding, served, failed, leaving, slots }) =>
      ({ address, healthy, outstanding, served, failed, leaving, slots }));
  }

  private async probe(backend: Backend): Promise<void> {
    if (backend.probing) return;
    backend.probing = true;
    try {
      const status = await checkHealth(backend.client, bearer(this.options.token), HEALTH_DEADLINE_MS);
      this.setHealthy(backend, status === 'SERVING', `health ${status}`);
    } catch (error) {
      this.setHealthy(backend, false, oneLine(error));
    } finally {
      backend.probing = false;
    }
  }

  private setHealthy(backend: Backend, healthy: boolean, why: string): void {
    const first = !backend.probed;
    backend.probed = true;
    if ((backend.healthy === healthy && !first) || this.backends.get(backend.address) !== backend) return;
    backend.healthy = healthy;
    if (healthy) this.wake();
    if (healthy) this.options.log.info('server put back', { address: backend.address });
    else this.options.log.warn('server taken out', { address: backend.address, why });
  }

  private dropIfDrained(backend: Backend): void {
    if (!backend.leaving || backend.outstanding > 0 || this.backends.get(backend.address) !== backend) return;
    this.backends.delete(backend.address);
    backend.client.close();
    this.options.log.info('server left', { address: backend.address, served: backend.served });
  }
}
