// Talking to a balancer: RunTask as to one big worker server, and the pool operations.
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from '../../../wires/grpc/grpc-js.ts';
import { AuthError, UsageError } from '../../../errors.ts';
import { callWithPolicy, isServiceError, type CallPolicy } from '../../../wires/call-policy.ts';
import { channelCredentials, type TlsMaterial } from '../../../wires/grpc/credentials.ts';
import { loadProto } from '../../../wires/grpc/proto.ts';
import { bearer } from '../../../wires/grpc/token.ts';
import type { AttemptReport, ListServersReply, RunTaskRequest } from '../../../wires/messages.ts';
import { balancerService } from './balancer-proto.ts';

export interface BalancerClient {
  /** Not retried here: the balancer already moves the task to another server when one goes away. */
  runTask(req: RunTaskRequest, deadlineMs: number): Promise<AttemptReport>;
  /** True: the server is in the pool (joining twice is harmless). */
  join(address: string): Promise<boolean>;
  /** False: the balancer did not know that server. */
  leave(address: string): Promise<boolean>;
  listServers(): Promise<ListServersReply>;
  close(): void;
}

// Join, Leave and ListServers are idempotent: a lost reply is simply asked again.
const POOL_POLICY: CallPolicy = { deadlineMs: 10_000, idempotent: true, retries: 4 };
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 16 << 20 };

/** Our error types where the meaning is ours (no or wrong token, bad address); other statuses as they came. */
function fromStatus(error: unknown): unknown {
  if (isServiceError(error) && error.code === grpcJs().status.UNAUTHENTICATED) return new AuthError(error.details);
  if (isServiceError(error) && error.code === grpcJs().status.INVALID_ARGUMENT) return new UsageError(error.details);
  return error;
}

type Stub = grpc.Client & Record<string, Function>;

function unary<T>(stub: Stub, method: string, req: unknown, metadata: grpc.Metadata, deadline: Date): Promise<T> {
  return new Promise((resolve, reject) => {
    stub[method].call(stub, req, metadata, { deadline }, (error: unknown, reply: T) => (error ? reject(fromStatus(error)) : resolve(reply)));
  });
}

export function connectBalancer(address: string, token?: string, tls?: TlsMaterial): BalancerClient {
  const pool = new (balancerService())(address, channelCredentials(tls), CHANNEL_OPTIONS) as unknown as Stub;
  // One connection for both services.
  const worker = new (loadProto().Worker)(address, channelCredentials(tls), { channelOverride: pool.getChannel() }) as unknown as Stub;
  const poolCall = <T>(method: string, req: unknown) =>
    callWithPolicy(POOL_POLICY, (deadline) => unary<T>(pool, method, req, bearer(token), deadline));
  return {
    runTask: (req, deadlineMs) => unary<AttemptReport>(worker, 'RunTask', req, bearer(token), new Date(Date.now() + deadlineMs)),
    join: async (server) => (await poolCall<{ joined: boolean }>('Join', { address: server })).joined,
    leave: async (server) => (await poolCall<{ left: boolean }>('Leave', { address: server })).left,
    listServers: () => poolCall<ListServersReply>('ListServers', {}),
    close: () => pool.close(),
  };
}
