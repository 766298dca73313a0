// hypercube: 2^d nodes, links between neighbours only, messages forwarded hop by hop (e-cube).
import { machineBackend } from '../machine-backend.ts';
import { createHypercubeTransport } from './hypercube-transport.ts';

export const hypercubeBackend = machineBackend('hypercube', createHypercubeTransport);
