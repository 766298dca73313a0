// The horizontal backend's load-balancing switch: one address in front of identical, stateless
// worker servers. RunTask goes to the least loaded healthy server and, since every task is
// idempotent, moves to another server when the first one goes away mid-request.
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from '../../../wires/grpc/grpc-js.ts';
import { AuthError, MrError, UsageError, oneLine } from '../../../errors.ts';
import type { Logger } from '../../../log.ts';
import type { ChaosNode } from '../../../wires/chaos/chaos-node.ts';
import { isServiceError } from '../../../wires/call-policy.ts';
import { serverCredentials, type TlsMaterial } from '../../../wires/grpc/credentials.ts';
import { HealthService } from '../../../wires/grpc/health-service.ts';
import { loadProto } from '../../../wires/grpc/proto.ts';
import { bearer, tokenMatches } from '../../../wires/grpc/token.ts';
import type * as M from '../../../wires/messages.ts';
import { BackendPool, type Backend } from './backend-pool.ts';
import { balancerService } from './balancer-proto.ts';
import { isTransportFailure } from './balancer-client.ts';
import { checkAddress, hostOf } from './server-address.ts';

export interface BalancerOptions {
  backends?: string[];
  token?: string;
  tls?: TlsMaterial;             // mutual TLS for its server and its channels to the servers
  chaos?: ChaosNode;             // --chaos: every RunTask sent to a server passes through this node's layer
  healthIntervalMs?: number;
  log: Logger;
}

const DEFAULT_DEADLINE_MS = 30 * 60_000;   // a caller without a deadline still gets an answer one day
const WAIT_POLL_MS = 100;
const STOP_GRACE_MS = 2000;
const SERVER_OPTIONS: grpc.ServerOptions = { 'grpc.max_receive_message_length': 16 << 20 };

/** A status with its code, as grpc-js servers and clients both understand it. */
class StatusError extends Error {
  constructor(readonly code: grpc.status, readonly details: string) {
    super(details);
  }
}

function toStatus(error: unknown): Partial<grpc.StatusObject> {
  if (isServiceError(error) || error instanceof StatusError) return { code: error.code, details: error.details, metadata: (error as grpc.ServiceError).metadata };
  const details = oneLine(error);
  const code = error instanceof AuthError ? grpcJs().status.UNAUTHENTICATED
    : error instanceof UsageError ? grpcJs().status.INVALID_ARGUMENT
      : error instanceof MrError ? grpcJs().status.FAILED_PRECONDITION : grpcJs().status.INTERNAL;
  return { code, details };
}

export class Balancer {
  failovers = 0;
  /** Requests waiting here for a server with a free slot (the autoscaler's signal). */
  queued = 0;
  private readonly pool: BackendPool;
  private readonly token: string | undefined;
  private readonly tls: TlsMaterial | undefined;
  private readonly log: Logger;
  private readonly chaos: ChaosNode | undefined;
  private server: grpc.Server | undefined;
  private health: HealthService | undefined;
  private stopping = false;

  constructor(options: BalancerOptions) {
    this.token = options.token;
    this.tls = options.tls;
    this.log = options.log;
    this.chaos = options.chaos;
    this.pool = new BackendPool({ token: options.token, tls: options.tls, healthIntervalMs: options.healthIntervalMs ?? 500, log: options.log });
    for (const address of options.backends ?? []) void this.pool.join(checkAddress('backend', address));
  }

  /** Serves Worker.RunTask, the Balancer service and grpc.health.v1; resolves with host:port. */
  async start(listen: string): Promise<string> {
    const server = new (grpcJs().Server)(SERVER_OPTIONS);
    server.addService(loadProto().Worker.service, this.workerHandlers());
    server.addService(balancerService().service, this.balancerHandlers());
    this.health = new HealthService();
    this.health.addTo(server);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, serverCredentials(this.tls), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    this.server = server;
    this.pool.startProbing();
    const address = `${hostOf(listen)}:${port}`;
    this.log.info('listening', { address });
    return address;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    this.server = undefined;
    if (server) {
      this.health?.setStatus('NOT_SERVING');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), STOP_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    this.pool.stop();
  }

  servers(): M.ServerState[] {
    return this.pool.states();
  }

  private checkToken(metadata: grpc.Metadata): void {
    if (this.token !== undefined && !tokenMatches(this.token, metadata.get('authorization')[0])) {
      throw new AuthError('missing or wrong token: give the cluster\'s secret with --token or --token-file');
    }
  }

  /** A unary handler: token first, then the work; any error becomes a status. */
  private unary<Req, Reply>(work: (request: Req, call: grpc.ServerUnaryCall<Req, Reply>) => Promise<Reply> | Reply) {
    return (call: grpc.ServerUnaryCall<Req, Reply>, callback: grpc.sendUnaryData<Reply>) => {
      Promise.resolve()
        .then(() => this.checkToken(call.metadata))
        .then(() => work(call.request, call))
        .then((reply) => callback(null, reply), (error) => callback(toStatus(error)));
    };
  }

  private workerHandlers(): grpc.UntypedServiceImplementation {
    const unimplemented = (method: string) => (call: grpc.ServerWritableStream<unknown, unknown>) => {
      let status: Partial<grpc.StatusObject> = { code: grpcJs().status.UNIMPLEMENTED, details: `the balancer forwards RunTask only, not ${method}: servers behind it share their outputs through the shared directory` };
      try {
        this.checkToken(call.metadata);
      } catch (error) {
        status = toStatus(error);
      }
      call.destroy(Object.assign(new Error(status.details), status));
    };
    return {
      RunTask: this.unary<M.RunTaskRequest, M.AttemptReport>((request, call) => this.runTask(request, call)),
      FetchPartition: unimplemented('FetchPartition'),
      ReadFile: unimplemented('ReadFile'),
    };
  }

  private balancerHandlers(): grpc.UntypedServiceImplementation {
    return {
      Join: this.unary<M.ServerRef, M.JoinReply>(async ({ address, slots }) => {
        await this.pool.join(checkAddress('Join: address', address), slots);
        return { joined: true };
      }),
      Leave: this.unary<M.ServerRef, M.LeaveReply>(({ address }) => ({ left: this.pool.leave(address.trim()) })),
      ListServers: this.unary<M.ListServersRequest, M.ListServersReply>(() => ({ servers: this.servers(), failovers: this.failovers, queued: this.queued })),
    };
  }

  private async runTask(request: M.RunTaskRequest, call: grpc.ServerUnaryCall<M.RunTaskRequest, M.AttemptReport>): Promise<M.AttemptReport> {
    const incoming = call.getDeadline();
    const deadline = incoming instanceof Date ? incoming.getTime() : Number.isFinite(incoming) ? incoming : Date.now() + DEFAULT_DEADLINE_MS;
    let forwarded: grpc.ClientUnaryCall | undefined;
    // The caller gave up: so do we, and the CANCELLED that follows is not the server's failure.
    call.on('cancelled', () => forwarded?.cancel());
    for (;;) {
      const backend = await this.waitForBackend(deadline, call);   // its slot taken
      try {
        const reply = await this.forward(backend, request, deadline, (c) => (forwarded = c));
        backend.served++;
        return reply;
      } catch (error) {
        if (call.cancelled || !isTransportFailure(error)) {
          if (!call.cancelled) backend.served++;
          throw error;
        }
        this.failovers++;
        this.pool.markFailed(backend, error);
        this.log.warn('failover', { attemptId: request.task?.attemptId, from: backend.address, error: oneLine(error) });
      } finally {
        this.pool.end(backend);
      }
    }
  }

  /**
   * One RunTask to one server. Under --chaos it may be lost (either way), delayed, throttled or
   * sent twice: a lost one fails over to another server, which runs the same attempt again.
   */
  private forward(backend: Backend, request: M.RunTaskRequest, deadline: number, started: (call: grpc.ClientUnaryCall) => void): Promise<M.AttemptReport> {
    const stub = backend.client as unknown as Record<string, Function>;
    const send = () => new Promise<M.AttemptReport>((resolve, reject) => {
      started(stub.RunTask.call(stub, request, bearer(this.token), { deadline }, (error: unknown, reply: M.AttemptReport) => (error ? reject(error) : resolve(reply))));
    });
    return this.chaos ? this.chaos.unary('Worker', 'runTask', request, send) : send();
  }

  /**
   * The server to send to, waiting while none is usable or every one's slots are taken (the
   * request is queued here, not at a server: a server that joins meanwhile gets it), up to the
   * caller's deadline. The server's slot is taken as it is picked: requests woken together do not
   * both take the one free slot.
   */
  private async waitForBackend(deadline: number, call: grpc.ServerUnaryCall<unknown, unknown>): Promise<Backend> {
    this.queued++;
    try {
      for (;;) {
        if (this.stopping) throw new StatusError(grpcJs().status.UNAVAILABLE, 'the balancer is stopping');
        if (call.cancelled) throw new StatusError(grpcJs().status.CANCELLED, 'the caller cancelled');
        const backend = this.pool.pick();
        if (backend) {
          this.pool.begin(backend);
          return backend;
        }
        if (Date.now() + WAIT_POLL_MS > deadline) {
          throw new StatusError(grpcJs().status.DEADLINE_EXCEEDED, 'no healthy worker server behind the balancer before the deadline: start or join one');
        }
        await this.pool.freed(WAIT_POLL_MS);
      }
    } finally {
      this.queued--;
    }
  }
}
