// grpc-js, loaded on first use rather than when the engine loads: it is the largest module a run
// loads (some 60-120 ms of a process's start-up), and a run that never opens a socket (an uber run,
// the memory and simulated backends) never needs it. It is CommonJS, so a synchronous require
// gives the same instance an `import` would; types come from `import type`.
import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';

const requireCjs = createRequire(import.meta.url);
let loaded: typeof GrpcJs | undefined;

/** The @grpc/grpc-js module, required the first time it is asked for. */
export function grpcJs(): typeof GrpcJs {
  loaded ??= requireCjs('@grpc/grpc-js') as typeof GrpcJs;
  return loaded;
}
