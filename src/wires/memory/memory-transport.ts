// The in-process backend: master and workers live in one process and call each other directly,
// yet every message is still encoded and decoded with the proto schema, as on the wire. For
// fast tests of the core, and for running a job without sockets.
import { chaosMasterClient, chaosMasterService, chaosWorkerClient, chaosWorkerService } from '../chaos/chaos-services.ts';
import type * as M from '../messages.ts';
import { methodCodec, type MethodCodec } from '../proto-codec.ts';
import {
  MASTER_METHODS, type MasterClient, type MasterService, type Server, type Transport, type TransportOptions, type WorkerClient, type WorkerService,
} from '../transport.ts';
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

const codecs = new Map<string, MethodCodec>();
function codecOf(service: 'Master' | 'Worker', method: string): MethodCodec {
  const name = method[0].toUpperCase() + method.slice(1);
  let codec = codecs.get(`${service}.${name}`);
  if (!codec) codecs.set(`${service}.${name}`, (codec = methodCodec(service, name)));
  return codec;
}

function masterClient(address: string): MasterClient {
  const client: Record<string, unknown> = { close() {} };
  for (const method of MASTER_METHODS) {
    const codec = codecOf('Master', method);
    client[method] = async (req: object) => {
      const handlers = lookup<MasterService>(address);
      const reply = await (handlers[method] as (r: unknown) => Promise<object>)(codec.decodeRequest(codec.encodeRequest(req)));
      return codec.decodeReply(codec.encodeReply(reply));
    };
  }
  return client as unknown as MasterClient;
}

function workerClient(address: string): WorkerClient {
  const codec = codecOf('Worker', 'fetchPartition');
  return {
    async *fetchPartition(req: M.FetchPartitionRequest) {
      const handlers = lookup<WorkerService>(address);
      for await (const data of handlers.fetchPartition(codec.decodeRequest(codec.encodeRequest(req)))) {
        yield (codec.decodeReply(codec.encodeReply({ data })) as { data: Buffer }).data;
      }
    },
    close() {},
  };
}

/** Under --chaos, each node (the master, each in-process worker) has a transport of its own, with its chaos layer. */
export function createMemoryTransport(options: TransportOptions = {}): Transport {
  const { chaos } = options;
  return {
    name: 'memory',
    capabilities: { multiHost: false, multiProcess: false, sharedMemory: true, faultInjection: true },
    chaos,
    serveMaster: (handlers) => listen(chaos ? chaosMasterService(handlers, chaos) : handlers, 'master'),
    serveWorker: (handlers) => listen(chaos ? chaosWorkerService(handlers, chaos) : handlers, 'worker'),
    connectMaster: (address) => (chaos ? chaosMasterClient(masterClient(address), chaos) : masterClient(address)),
    connectWorker: (address) => (chaos ? chaosWorkerClient(workerClient(address), chaos) : workerClient(address)),
  };
}
