// The wires by backend name: each backend registers its wire once (src/backends/index.ts), and
// createTransport gives its users a Transport over it, call policy and chaos layer included.
import { transportOver } from './over-wire.ts';
import type { Transport, TransportOptions, WireFactory } from './transport.ts';

const registry = new Map<string, WireFactory>();

export function registerWire(name: string, factory: WireFactory): void {
  registry.set(name, factory);
}

export function transportNames(): string[] {
  return [...registry.keys()];
}

/** The named backend's wire with the call policy and, given options.chaos, the chaos layer; undefined when no backend has that name. */
export function createTransport(name: string, options: TransportOptions = {}): Transport | undefined {
  const factory = registry.get(name);
  if (!factory) return undefined;
  const { chaos, ...wireOptions } = options;
  return transportOver(factory(wireOptions), chaos);
}
