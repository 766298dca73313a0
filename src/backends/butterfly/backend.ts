// butterfly: shared memory reached through log2 N switch stages (the BBN Butterfly).
import { machineBackend } from '../machine-backend.ts';
import { createButterflyTransport } from './butterfly-transport.ts';

export const butterflyBackend = machineBackend('butterfly', createButterflyTransport);
