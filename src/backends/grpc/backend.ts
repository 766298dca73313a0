// grpc: the default. Worker processes on this machine (or daemons anywhere) over real gRPC.
import { createGrpcWire } from '../../wires/grpc/grpc-wire.ts';
import { commonReport, type Backend } from '../backend.ts';
import { processPool } from '../process-backend.ts';

export const grpcBackend: Backend = {
  name: 'grpc',
  wire: createGrpcWire,
  runs: { sizing: 'workers', tls: true },
  pool: (context) => processPool(context, 'grpc'),
  report: (_pool, facts) => commonReport(facts),
};
