// grpc: the default. Worker processes on this machine (or daemons anywhere) over real gRPC.
import { commonReport, type Backend } from '../backend.ts';
import { processPool } from '../process-backend.ts';

export const grpcBackend: Backend = {
  name: 'grpc',
  pool: (context) => processPool(context, 'grpc'),
  report: (_pool, facts) => commonReport(facts),
};
