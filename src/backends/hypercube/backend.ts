// hypercube: 2^d nodes, links between neighbours only, messages forwarded hop by hop (e-cube).
import { machineBackend } from '../machine-backend.ts';
import { createHypercubeWire } from './hypercube-wire.ts';

export const hypercubeBackend = machineBackend('hypercube', createHypercubeWire);
