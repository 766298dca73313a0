// The ssi backend: a pool of worker processes that looks like one machine. Messages travel as
// on grpc; what makes the single system image is above the wire: one process table (every
// attempt has a cluster-wide id, `mr ps`, `mr kill <cpid>`), one file namespace (/cluster/<node>/
// paths, through which reducers open map outputs without knowing which node holds them), and
// transparency (least-loaded placement, `mr drain <node>`, a dead node's attempts restarted
// elsewhere without counting as failures).
import { createGrpcWire } from '../../wires/grpc/grpc-wire.ts';
import type { Wire, WireOptions } from '../../wires/transport.ts';

export function createSsiWire(options: WireOptions = {}): Wire {
  return {
    ...createGrpcWire(options),
    name: 'ssi',
    capabilities: { multiHost: true, multiProcess: true, sharedMemory: false, faultInjection: true },
  };
}
