// butterfly: shared memory reached through log2 N switch stages (the BBN Butterfly).
import { machineBackend } from '../machine-backend.ts';
import { createButterflyWire } from './butterfly-wire.ts';

export const butterflyBackend = machineBackend('butterfly', createButterflyWire);
