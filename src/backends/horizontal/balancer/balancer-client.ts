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
  /** True: the server is in the pool (joining twice is harmless); slots: the requests it takes at once (0: no limit). */
  join(address: string, slots?: number): Promise<boolean>;
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

/**
 * The other side went away rather than answered: grpc-js reports a process killed mid-call as
 * UNAVAILABLE "Connection dropped", a refused or reset connection as UNAVAILABLE, a server that
 * force-shuts down as CANCELLED (which we did not cause), and a stream cut without a status as
 * INTERNAL "Received RST_STREAM ...". Our own servers' INTERNAL errors carry their message instead.
 * The balancer fails a request over to another server on it; a client of a pair of balancers sends
 * it to the other balancer. Answers (an application error, no server before the deadline) come
 * with other statuses and go back to the caller.
 */
export function isTransportFailure(error: unknown): boolean {
  if (!isServiceError(error)) return false;
  const { status } = grpcJs();
  return error.code === status.UNAVAILABLE || error.code === status.CANCELLED || (error.code === status.INTERNAL && error.details.startsWith('Received RST_STREAM'));
}

/** A pause before a RunTask goes to the next balancer after the last one was gone too. */
const ROUND_PAUSE_MS = 200;

/**
 * host:port[,host:port...]: balancers that work as a pair (or more). A RunTask goes to the one
 * that answered last; when it is gone mid-request, the same request (an attempt is idempotent:
 * the server remembers it, the master commits it once) goes to the next, until the deadline.
 * Join and Leave go to every one (the farm's membership is every balancer's); ListServers to the
 * first that answers.
 */
export function connectBalancers(addresses: string, token?: string, tls?: TlsMaterial): BalancerClient {
  const list = addresses.split(',').map((a) => a.trim()).filter(Boolean);
  if (list.length <= 1) return connectBalancer(addresses, token, tls);
  const clients = list.map((address) => connectBalancer(address, token, tls));
  let current = 0;
  const any = async <T>(call: (client: BalancerClient) => Promise<T>): Promise<T> => {
    let last: unknown;
    for (const client of clients) {
      try {
        return await call(client);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  };
  return {
    async runTask(req, deadlineMs) {
      const deadline = Date.now() + deadlineMs;
      for (let tried = 0; ; tried++) {
        const at = current;
        try {
          return await clients[at].runTask(req, Math.max(1, deadline - Date.now()));
        } catch (error) {
          if (!isTransportFailure(error) || Date.now() >= deadline) throw error;
          if (current === at) current = (at + 1) % clients.length;
          if ((tried + 1) % clients.length === 0) await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
        }
      }
    },
    join: async (server, slots) => (await Promise.allSettled(clients.map((c) => c.join(server, slots)))).some((r) => r.status === 'fulfilled' && r.value),
    leave: async (server) => (await Promise.allSettled(clients.map((c) => c.leave(server)))).some((r) => r.status === 'fulfilled' && r.value),
    listServers: () => any((c) => c.listServers()),
    close: () => clients.forEach((c) => c.close()),
  };
}

export function connectBalancer(address: string, token?: string, tls?: TlsMaterial): BalancerClient {
  const pool = new (balancerService())(address, channelCredentials(tls), CHANNEL_OPTIONS) as unknown as Stub;
  // One connection for both services.
  const worker = new (loadProto().Worker)(address, channelCredentials(tls), { channelOverride: pool.getChannel() }) as unknown as Stub;
  const poolCall = <T>(method: string, req: unknown) =>
    callWithPolicy(POOL_POLICY, (deadline) => unary<T>(pool, method, req, bearer(token), deadline));
  return {
    runTask: (req, deadlineMs) => unary<AttemptReport>(worker, 'RunTask', req, bearer(token), new Date(Date.now() + deadlineMs)),
    join: async (server, slots = 0) => (await poolCall<{ joined: boolean }>('Join', { address: server, slots })).joined,
    leave: async (server) => (await poolCall<{ left: boolean }>('Leave', { address: server })).left,
    listServers: () => poolCall<ListServersReply>('ListServers', {}),
    close: () => pool.close(),
  };
}
