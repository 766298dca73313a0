// The chaos layer around a node's served handlers, whatever wire carries them: they refuse every
// call while their node is cut off (the "to" side of a partition). Its clients' side is in
// over-wire.ts, which puts both over every wire.
import { MASTER_METHODS, type MasterService, type WorkerService } from '../transport.ts';
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
  const { readFile, runTask, fetchPartitions } = handlers;
  return {
    fetchPartition: guarded(node, 'fetchPartition', (request) => handlers.fetchPartition(request)),
    ...(fetchPartitions ? { fetchPartitions: guarded(node, 'fetchPartitions', (request) => fetchPartitions.call(handlers, request)) } : {}),
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
