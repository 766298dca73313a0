// The chaos layer around a backend's services and clients, whatever carries them:
// - served handlers refuse every call while their node is cut off (the "to" side of a partition);
// - an in-process backend's clients (memory, butterfly) pass each call through the node's chaos
//   layer and, since nothing in them ever failed before, under the same retry policy as gRPC's.
// The gRPC backend puts the chaos layer under its own policy itself (grpc-transport.ts).
import { MASTER_POLICY, callWithPolicy } from '../call-policy.ts';
import { MASTER_METHODS, type MasterClient, type MasterService, type WorkerClient, type WorkerService } from '../transport.ts';
import type { ChaosNode } from './chaos-node.ts';

type Handler = (request: object, ...rest: unknown[]) => unknown;

/** The master's handlers, refusing calls while the node (the master) is cut off. */
export function chaosMasterService(handlers: MasterService, node: ChaosNode): MasterService {
  const wrapped: Record<string, Handler> = {};
  for (const method of MASTER_METHODS) {
    const call = (handlers[method] as Handler).bind(handlers);
    wrapped[method] = async (request) => {
      node.refuseIfCutOff(`${method} to ${node.name}`);
      return call(request);
    };
  }
  return wrapped as unknown as MasterService;
}

/** A worker's handlers, refusing calls (and breaking off streams) while the worker is cut off. */
export function chaosWorkerService(handlers: WorkerService, node: ChaosNode): WorkerService {
  const { readFile, runTask } = handlers;
  return {
    fetchPartition: guarded(node, 'fetchPartition', (request) => handlers.fetchPartition(request)),
    ...(readFile ? { readFile: guarded(node, 'readFile', (request) => readFile.call(handlers, request)) } : {}),
    ...(runTask ? {
      runTask: async (request, signal) => {
        node.refuseIfCutOff(`runTask to ${node.name}`);
        return runTask.call(handlers, request, signal);
      },
    } : {}),
  };
}

function guarded<R>(node: ChaosNode, method: string, open: (request: R) => AsyncIterable<Buffer>): (request: R) => AsyncGenerator<Buffer> {
  return async function* (request) {
    node.refuseIfCutOff(`${method} to ${node.name}`);
    for await (const chunk of open(request)) {
      node.refuseIfCutOff(`${method} to ${node.name}, mid-stream`);
      yield chunk;
    }
  };
}

/** An in-process client to the master, through the node's chaos layer, retried as gRPC calls are. */
export function chaosMasterClient(direct: MasterClient, node: ChaosNode): MasterClient {
  const client: Record<string, unknown> = { close: () => direct.close() };
  for (const method of MASTER_METHODS) {
    const call = (direct[method] as Handler).bind(direct) as (request: object) => Promise<unknown>;
    client[method] = (request: object) => callWithPolicy(MASTER_POLICY[method], () => node.unary('Master', method, request, () => call(request)));
  }
  return client as unknown as MasterClient;
}

/** An in-process client to a worker: streams through the node's chaos layer (their callers retry them). */
export function chaosWorkerClient(direct: WorkerClient, node: ChaosNode): WorkerClient {
  const { readFile } = direct;
  return {
    fetchPartition: (request) => node.stream('Worker', 'fetchPartition', request, () => direct.fetchPartition(request)),
    ...(readFile ? { readFile: (request) => node.stream('Worker', 'readFile', request, () => readFile.call(direct, request)) } : {}),
    close: () => direct.close(),
  };
}
