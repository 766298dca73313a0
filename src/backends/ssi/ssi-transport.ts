// The ssi backend: a pool of worker processes that looks like one machine. Messages travel as
// on grpc; what makes the single system image is above the wire: one process table (every
// attempt has a cluster-wide id, `mr ps`, `mr kill <cpid>`), one file namespace (/cluster/<node>/
// paths, through which reducers open map outputs without knowing which node holds them), and
// transparency (least-loaded placement, `mr drain <node>`, a dead node's attempts restarted
// elsewhere without counting as failures).
import { createGrpcTransport } from '../../wires/grpc/grpc-transport.ts';
import type { Transport, TransportOptions } from '../../wires/transport.ts';

export function createSsiTransport(options: TransportOptions = {}): Transport {
  return {
    ...createGrpcTransport(options),
    name: 'ssi',
    capabilities: { multiHost: true, multiProcess: true, sharedMemory: false, faultInjection: true },
  };
}
