// The gRPC wire: real HTTP/2 servers and clients (grpc-js) speaking proto/mapreduce.proto.
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { AuthError, MrError, UsageError } from '../../errors.ts';
import { MASTER_POLICY, isServiceError } from '../call-policy.ts';
import type { MasterMethod } from '../contract.gen.ts';
import type * as M from '../messages.ts';
import type { MasterLink, MasterService, Server, Wire, WireOptions, WorkerClient, WorkerService } from '../transport.ts';
import { TransportUnavailableError } from '../unavailable.ts';
import { channelCredentials, serverCredentials, type TlsMaterial } from './credentials.ts';
import { handshakeError } from './handshake.ts';
import { HealthService } from './health-service.ts';
import { loadProto } from './proto.ts';
import { grpcJs } from './grpc-js.ts';
import { bearer, tokenMatches } from './token.ts';

const FETCH_DEADLINE_MS = 10 * 60_000;
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 16 << 20 };
// A connection without a call for this long is closed, one that never sent a byte included: a
// client that connects and goes silent holds no socket for ever (clients reconnect on their next call).
export const IDLE_CONNECTION_MS = 30_000;
const SERVER_OPTIONS: grpc.ServerOptions = { ...CHANNEL_OPTIONS, 'grpc.max_connection_idle_ms': IDLE_CONNECTION_MS };

export function createGrpcWire(options: WireOptions = {}): Wire {
  const { token, tls } = options;
  const masterTraffic = { messages: 0, bytes: 0 };
  return {
    name: 'grpc',
    capabilities: { multiHost: true, multiProcess: true, sharedMemory: false, faultInjection: true },
    lossy: true,
    masterTraffic,
    serveMaster: (handlers, listen) => serve(counted(loadProto().Master.service, masterTraffic), unaryHandlers(handlers, token), listen, tls),
    serveWorker: (handlers, listen) => serve(loadProto().Worker.service, workerHandlers(handlers, token), listen, tls),
    linkMaster: (address) => masterLink(address, token, tls),
    connectWorker: (address) => workerClient(address, token, tls),
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
  const server = new (grpcJs().Server)(SERVER_OPTIONS);
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
  if (error instanceof TransportUnavailableError) return { code: grpcJs().status.UNAVAILABLE, details };
  const code = error instanceof AuthError ? grpcJs().status.UNAUTHENTICATED
    : error instanceof UsageError ? grpcJs().status.INVALID_ARGUMENT
      : error instanceof MrError ? grpcJs().status.FAILED_PRECONDITION : grpcJs().status.INTERNAL;
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
  const unimplemented = (what: string) => Object.assign(new Error(`this worker does not serve ${what}`), { code: grpcJs().status.UNIMPLEMENTED });
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
    FetchPartitions: stream((req: M.FetchPartitionsRequest) => {
      if (!handlers.fetchPartitions) throw unimplemented('FetchPartitions');
      return handlers.fetchPartitions(req);
    }),
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
        .then((reply) => callback(null, reply), (error) => callback(error?.code === grpcJs().status.UNIMPLEMENTED ? error : toStatus(error)));
    },
    ListProcesses: (call: grpc.ServerUnaryCall<M.ListProcessesRequest, M.ListProcessesReply>, callback: grpc.sendUnaryData<M.ListProcessesReply>) => {
      Promise.resolve()
        .then(() => checkToken(token, call.metadata))
        .then(() => {
          if (!handlers.listProcesses) throw unimplemented('ListProcesses');
          return handlers.listProcesses(call.request);
        })
        .then((reply) => callback(null, reply), (error) => callback(error?.code === grpcJs().status.UNIMPLEMENTED ? error : toStatus(error)));
    },
  };
}

/** Turns a failed call into our error types where the meaning is ours (bad request). */
function fromStatus(error: unknown): unknown {
  if (isServiceError(error) && error.code === grpcJs().status.UNAUTHENTICATED) return new AuthError(error.details);
  if (isServiceError(error) && error.code === grpcJs().status.INVALID_ARGUMENT) return new UsageError(error.details);
  if (isServiceError(error) && error.code === grpcJs().status.FAILED_PRECONDITION) return new MrError(error.details);
  return error;
}

/** One try of each Master call, with its deadline (over-wire.ts retries it, under the node's chaos layer). */
function masterLink(address: string, token: string | undefined, tls: TlsMaterial | undefined): MasterLink {
  const { Master } = loadProto();
  const stub = new Master(address, channelCredentials(tls), CHANNEL_OPTIONS) as unknown as Record<string, Function>;
  const send = (method: MasterMethod, req: object, deadline: Date, as = token) => new Promise((resolve, reject) => {
    const name = method[0].toUpperCase() + method.slice(1);
    stub[name].call(stub, req, bearer(as), { deadline }, (error: unknown, reply: unknown) => (error ? reject(error) : resolve(reply)));
  });
  return {
    call: (method, req, deadline) => send(method, req, deadline).catch((error) => {
      throw fromStatus(error);
    }),
    // intruder=P: the same call with a token of the intruder's own making.
    forged: (method, req, deadline) => send(method, req, deadline, `forged-${randomBytes(8).toString('hex')}`),
    explain: (error) => handshakeError(error, `master ${address}`, tls !== undefined) ?? error,
    close: () => (stub as unknown as grpc.Client).close(),
  };
}

function workerClient(address: string, token: string | undefined, tls: TlsMaterial | undefined): WorkerClient {
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
  return {
    fetchPartition: (req) => streamed('FetchPartition', req),
    fetchPartitions: (req) => streamed('FetchPartitions', req),
    readFile: (req) => streamed('ReadFile', req),
    runTask: (req) => new Promise((resolve, reject) => {
      stub.RunTask(req, bearer(token), { deadline: new Date(Date.now() + FETCH_DEADLINE_MS) }, (error: unknown, reply: M.AttemptReport) => (error ? reject(fromStatus(error)) : resolve(reply)));
    }),
    listProcesses: (req) => new Promise((resolve, reject) => {
      stub.ListProcesses(req, bearer(token), { deadline: new Date(Date.now() + FETCH_DEADLINE_MS) }, (error: unknown, reply: M.ListProcessesReply) => (error ? reject(fromStatus(error)) : resolve(reply)));
    }),
    close: () => stub.close(),
  };
}
