// The in-process wire: master and workers live in one process and call each other directly,
// yet every message is still encoded and decoded with the proto schema, as on the wire. For
// fast tests of the core, and for running a job without sockets.
import type * as M from '../messages.ts';
import { codecOf } from '../proto-codec.ts';
import type { MasterLink, MasterService, Server, Wire, WorkerClient, WorkerService } from '../transport.ts';
import { TransportUnavailableError } from '../unavailable.ts';

const servers = new Map<string, MasterService | WorkerService>();
let nextAddress = 1;

function listen(handlers: MasterService | WorkerService, kind: string): Promise<Server> {
  const address = `memory:${kind}-${nextAddress++}`;
  servers.set(address, handlers);
  return Promise.resolve({ address, stop: async () => void servers.delete(address) });
}

function lookup<T>(address: string): T {
  const handlers = servers.get(address);
  if (!handlers) throw new TransportUnavailableError(`nothing serves ${address} in this process`);
  return handlers as T;
}

function masterLink(address: string): MasterLink {
  return {
    async call(method, req) {
      const codec = codecOf('Master', method);
      const handlers = lookup<MasterService>(address);
      const reply = await (handlers[method] as (r: unknown) => Promise<object>)(codec.decodeRequest(codec.encodeRequest(req)));
      return codec.decodeReply(codec.encodeReply(reply));
    },
    close() {},
  };
}

/** A worker's stream, its request and every chunk encoded and decoded as on the wire. */
async function* streamed<R extends object>(
  method: 'fetchPartition' | 'fetchPartitions', req: R, open: (handlers: WorkerService, req: R) => AsyncIterable<Buffer> | undefined, address: string,
): AsyncGenerator<Buffer> {
  const codec = codecOf('Worker', method);
  const chunks = open(lookup<WorkerService>(address), codec.decodeRequest(codec.encodeRequest(req)) as R);
  if (!chunks) throw new TransportUnavailableError(`${address} does not serve ${method}`);
  for await (const data of chunks) yield (codec.decodeReply(codec.encodeReply({ data })) as { data: Buffer }).data;
}

function workerClient(address: string): WorkerClient {
  return {
    fetchPartition: (req: M.FetchPartitionRequest) => streamed('fetchPartition', req, (handlers, r) => handlers.fetchPartition(r), address),
    fetchPartitions: (req: M.FetchPartitionsRequest) => streamed('fetchPartitions', req, (handlers, r) => handlers.fetchPartitions?.(r), address),
    close() {},
  };
}

/** Under --chaos, each node (the master, each in-process worker) has a transport of its own, with its chaos layer. */
export function createMemoryWire(): Wire {
  return {
    name: 'memory',
    capabilities: { multiHost: false, multiProcess: false, sharedMemory: true, faultInjection: true },
    lossy: false,
    serveMaster: (handlers) => listen(handlers, 'master'),
    serveWorker: (handlers) => listen(handlers, 'worker'),
    linkMaster: masterLink,
    connectWorker: workerClient,
  };
}
