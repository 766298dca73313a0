// The transport layer's interface, for its users. The wires and models are registered by the
// backends that use them (src/backends/index.ts), which is where createTransport() comes from.
export type { BackendReport, MachineTuning, SimulatedMachine, Transport, MasterClient, WorkerClient, MasterService, WorkerService, Server } from './transport.ts';
