// --transport <name>: one usage error for a backend that does not exist, whichever command asks.
import { UsageError } from '../errors.ts';
import { type Transport } from '../wires/index.ts';
import { createTransport, transportNames } from '../backends/index.ts';
import type { TransportOptions } from '../wires/transport.ts';

export function checkTransportName(name: string): void {
  if (!transportNames().includes(name)) throw new UsageError(`unknown --transport ${name}; available: ${transportNames().join(', ')}`);
}

export function namedTransport(name: string, options: TransportOptions = {}): Transport {
  checkTransportName(name);
  return createTransport(name, options)!;
}
