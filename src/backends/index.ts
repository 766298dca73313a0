// The registered backends: the one place a backend's name appears. Adding one is a folder here
// and one line below. Each backend's wire is registered with it: createTransport() comes from here.
import { registerWire } from '../wires/registry.ts';
import type { Backend } from './backend.ts';
import { butterflyBackend } from './butterfly/backend.ts';
import { grpcBackend } from './grpc/backend.ts';
import { horizontalBackend } from './horizontal/backend.ts';
import { hypercubeBackend } from './hypercube/backend.ts';
import { memoryBackend } from './memory/backend.ts';
import { ssiBackend } from './ssi/backend.ts';

const BACKENDS: readonly Backend[] = [grpcBackend, memoryBackend, hypercubeBackend, butterflyBackend, ssiBackend, horizontalBackend];

for (const backend of BACKENDS) registerWire(backend.name, backend.wire);

/** The backend registered under name (--transport), or undefined. */
export function backendNamed(name: string): Backend | undefined {
  return BACKENDS.find((backend) => backend.name === name);
}

export { createTransport, transportNames } from '../wires/registry.ts';
export type { Backend, PoolContext, RunFacts, RunShape, WorkerContext, WorkerParts } from './backend.ts';
