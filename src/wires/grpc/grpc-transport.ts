// The gRPC backend: real HTTP/2 servers and clients (grpc-js) speaking proto/mapreduce.proto.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { AuthError, MrError, UsageError } from '../../errors.ts';
import { LONG_POLL_MARGIN_MS, MASTER_POLICY, callWithPolicy, isServiceError } from '../call-policy.ts';
import type { ChaosNode } from '../chaos/chaos-node.ts';
import { chaosMasterService, chaosWorkerService } from '../chaos/chaos-services.ts';
import type * as M from '../messages.ts';
import type { MasterClient, MasterService, Server, Transport, TransportOptions, WorkerClient, WorkerService } from '../transport.ts';
import { TransportUnavailableError } from '../unavailable.ts';
import { channelCredentials, serverCredentials, type TlsMaterial } from './credentials.ts';
import { handshakeError } from './handshake.ts';
import { HealthService } from './health-service.ts';
import { loadProto } from './proto.ts';
import { bearer, tokenMatches } from './token.ts';

const FETCH_DEADLINE_MS = 10 * 60_000;
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 16 << 20 };
// A connection without a call for this long is closed, one that never sent a byte included: a
// client that connects and goes silent holds no socket for ever (clients reconnect on their next call).
export const IDLE_CONNECTION_MS = 30_000;
const SERVER_OPTIONS: grpc.ServerOptions = { ...CHANNEL_OPTIONS, 'grpc.max_connection_idle_ms': IDLE_CONNECTION_MS };

export function createGrpcTransport(options: TransportOptions = {}): Transport {
  const { token, chaos, tls } = options;
  const masterTraffic = { messages: 0, bytes: 0 };
  return {
    name: 'grpc',
    capabilities: { multiHost: true, multiProcess: true, sharedMemory: false, faultInjection: true },
    chaos,
    masterTraffic,
    serveMaster: (handlers, listen) => serve(counted(loadProto().Master.service, masterTraffic), unaryHandlers(chaos ? chaosMasterService(handlers, chaos) : handlers, token), listen, tls),
    serveWorker: (handlers, listen) => serve(loadProto().Worker.service, workerHandlers(chaos ? chaosWorkerService(handlers, chaos) : handlers, token), listen, tls),
    connectMaster: (address) => masterClient(address, token, chaos, tls),
    connectWorker: (address) => workerClient(address, token, chaos, tls),
  };
}

/** The service, its requests and replies counted as they are decoded and encoded. */
function counted(service: grpc.ServiceDefinition, traffic: { messages: number; bytes: number }): grpc.ServiceDefinition {
  const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    methods[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        traffic.messages++;
        traffic.bytes += bytes.length;
        return method.requestDeserialize(bytes);
      },
      responseSerialize: (reply: unknown) => {
        const bytes = method.responseSerialize(reply);
        traffic.messages++;
        traffic.bytes += bytes.length;
        return bytes;
      },
    };
  }
  return methods;
}

/** A server with the service and the standard gRPC health service (grpc.health.v1), without token (TLS, if on, still applies). */
async function serve(service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation, listen: string, tls: TlsMaterial | undefined): Promise<Server> {
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(service, impl);
  const health = new HealthService();
  health.addTo(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, serverCredentials(tls), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return {
    address: `${host}:${port}`,
    stop: () => new Promise<void>((resolve) => {
      health.setStatus('NOT_SERVING');
      const force = setTimeout(() => server.forceShutdown(), 2000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }),
  };
}

function toStatus(error: unknown): Partial<grpc.StatusObject> {
  const details = error instanceof Error ? error.message : String(error);
  // A server that does not answer (its node cut off by --chaos): what its caller would see of a network failure.
  if (error instanceof TransportUnavailableError) return { code: grpc.status.UNAVAILABLE, details };
  const code = error instanceof AuthError ? grpc.status.UNAUTHENTICATED
    : error instanceof UsageError ? grpc.status.INVALID_ARGUMENT
      : error instanceof MrError ? grpc.status.FAILED_PRECONDITION : grpc.status.INTERNAL;
  return { code, details };
}

function checkToken(token: string | undefined, metadata: grpc.Metadata): void {
  if (token !== undefined && !tokenMatches(token, metadata.get('authorization')[0])) {
    throw new AuthError('missing or wrong token: give the cluster\'s secret with --token or --token-file');
  }
}

function unaryHandlers(handlers: MasterService, token: string | undefined): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(MASTER_POLICY) as (keyof MasterService)[]) {
    const name = method[0].toUpperCase() + method.slice(1);
    impl[name] = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      Promise.resolve()
        .then(() => checkToken(token, call.metadata))
        .then(() => (handlers[method] as (req: unknown) => Promise<unknown>)(call.request))
        .then((reply) => callback(null, reply), (error) => callback(toStatus(error)));
    };
  }
  return impl;
}

function workerHandlers(handlers: WorkerService, token: string | undefined): grpc.UntypedServiceImplementation {
  const unimplemented = (what: string) => Object.assign(new Error(`this worker does not serve ${what}`), { code: grpc.status.UNIMPLEMENTED });
  const stream = (open: (req: any) => AsyncIterable<Buffer>) => async (call: grpc.ServerWritableStream<any, { data: Buffer }>) => {
    try {
      checkToken(token, call.metadata);
      for await (const data of open(call.request)) {
        if (call.cancelled) return;
        if (!call.write({ data })) await new Promise((resolve) => call.once('drain', resolve));
      }
      call.end();
    } catch (error) {
      // emit('error') sends the status to the client; destroy() would leave it waiting for one.
      call.emit('error', toStatus(error));
    }
  };
  return {
    FetchPartition: stream((req: M.FetchPartitionRequest) => handlers.fetchPartition(req)),
    ReadFile: stream((req: M.ReadFileRequest) => {
      if (!handlers.readFile) throw unimplemented('ReadFile');
      return handlers.readFile(req);
    }),
    RunTask: (call: grpc.ServerUnaryCall<M.RunTaskRequest, M.AttemptReport>, callback: grpc.sendUnaryData<M.AttemptReport>) => {
      Promise.resolve()
        .then(() => checkToken(token, call.metadata))
        .then(() => {
          if (!handlers.runTask) throw unimplemented('RunTask');
          const cancelled = new AbortController();
          call.on('cancelled', () => cancelled.abort());
          return handlers.runTask(call.request, cancelled.signal);
        })
        .then((reply) => callback(null, reply), (error) => callback(error?.code === grpc.status.UNIMPLEMENTED ? error : toStatus(error)));
    },
  };
}

/** Turns a failed call into our error types where the meaning is ours (bad request). */
function fromStatus(error: unknown): unknown {
  if (isServiceError(error) && error.code === grpc.status.UNAUTHENTICATED) return new AuthError(error.details);
  if (isServiceError(error) && error.code === grpc.status.INVALID_ARGUMENT) return new UsageError(error.details);
  if (isServiceError(error) && error.code === grpc.status.FAILED_PRECONDITION) return new MrError(error.details);
  return error;
}

/**
 * Each call has a deadline and, if idempotent, retries (call-policy.ts). Under --chaos, every
 * try passes through the node's chaos layer below that policy, as a network between the stub and
 * the server: what the layer loses, the policy retries. (Not a grpc-js interceptor: a duplicated
 * request is a second call, which an interceptor cannot make.)
 */
function masterClient(address: string, token: string | undefined, chaos: ChaosNode | undefined, tls: TlsMaterial | undefined): MasterClient {
  const { Master } = loadProto();
  const stub = new Master(address, channelCredentials(tls), CHANNEL_OPTIONS) as unknown as Record<string, Function>;
  const unary = (method: keyof MasterService, deadlineMs?: number) => (req: object) => {
    const policy = deadlineMs === undefined ? MASTER_POLICY[method] : { ...MASTER_POLICY[method], deadlineMs };
    const name = method[0].toUpperCase() + method.slice(1);
    const send = (deadline: Date, as = token) => new Promise((resolve, reject) => {
      stub[name].call(stub, req, bearer(as), { deadline }, (error: unknown, reply: unknown) => (error ? reject(error) : resolve(reply)));
    });
    const sendChecked = (deadline: Date) => send(deadline).catch((error) => {
      throw fromStatus(error);
    });
    // intruder=P: the same call with a token of the intruder's own making.
    const forge = (deadline: Date) => () => send(deadline, `forged-${randomBytes(8).toString('hex')}`);
    // Only once the retries are spent: a server restarting may drop a connection or two the same way.
    return callWithPolicy(policy, chaos ? (deadline) => chaos.unary('Master', method, req, () => sendChecked(deadline), forge(deadline)) : sendChecked)
      .catch((error) => {
        throw handshakeError(error, `master ${address}`, tls !== undefined) ?? error;
      });
  };
  const client: Record<string, unknown> = { close: () => (stub as unknown as grpc.Client).close() };
  for (const method of Object.keys(MASTER_POLICY) as (keyof MasterService)[]) client[method] = unary(method);
  client.requestTask = (req: M.TaskRequest) => unary('requestTask', req.waitMs + LONG_POLL_MARGIN_MS)(req);
  return client as unknown as MasterClient;
}

function workerClient(address: string, token: string | undefined, chaos: ChaosNode | undefined, tls: TlsMaterial | undefined): WorkerClient {
  const { Worker } = loadProto();
  const stub = new Worker(address, channelCredentials(tls), CHANNEL_OPTIONS) as unknown as grpc.Client & Record<string, Function>;
  async function* streamed(method: string, req: unknown): AsyncGenerator<Buffer> {
    const call = stub[method](req, bearer(token), { deadline: new Date(Date.now() + FETCH_DEADLINE_MS) }) as grpc.ClientReadableStream<{ data: Buffer }>;
    try {
      for await (const chunk of call) yield (chunk as { data: Buffer }).data;
    } catch (error) {
      throw fromStatus(error);
    } finally {
      call.cancel();
    }
  }
  const open = (method: 'fetchPartition' | 'readFile', req: object) => {
    const name = method[0].toUpperCase() + method.slice(1);
    return chaos ? chaos.stream('Worker', method, req, () => streamed(name, req)) : streamed(name, req);
  };
  return {
    fetchPartition: (req) => open('fetchPartition', req),
    readFile: (req) => open('readFile', req),
    // Not through the chaos layer: the balancer, which sends RunTask to servers, wraps its own sends.
    runTask: (req) => new Promise((resolve, reject) => {
      stub.RunTask(req, bearer(token), { deadline: new Date(Date.now() + FETCH_DEADLINE_MS) }, (error: unknown, reply: M.AttemptReport) => (error ? reject(fromStatus(error)) : resolve(reply)));
    }),
    close: () => stub.close(),
  };
}
