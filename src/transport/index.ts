// Registers the built-in backends; import this once before createTransport().
import { registerTransport } from './transport.ts';
import { createGrpcTransport } from './grpc/grpc-transport.ts';
import { createMemoryTransport } from './memory/memory-transport.ts';
import { createHypercubeTransport } from './hypercube/hypercube-transport.ts';
import { createButterflyTransport } from './butterfly/butterfly-transport.ts';
import { createSsiTransport } from './ssi/ssi-transport.ts';
import { createHorizontalTransport } from './horizontal/horizontal-transport.ts';

registerTransport('grpc', createGrpcTransport);
registerTransport('memory', createMemoryTransport);
registerTransport('hypercube', createHypercubeTransport);
registerTransport('butterfly', createButterflyTransport);
registerTransport('ssi', createSsiTransport);
registerTransport('horizontal', createHorizontalTransport);

export { createTransport, transportNames } from './transport.ts';
export type { BackendReport, MachineTuning, SimulatedMachine, Transport, MasterClient, WorkerClient, MasterService, WorkerService, Server } from './transport.ts';
