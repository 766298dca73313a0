// A file namespace a backend may give its workers (ssi: /cluster/<node>/<path>): the worker reads
// map outputs by their path through it, and serves its own part of it to other nodes (ReadFile).
// Without one, a worker fetches each map output from the worker that has it, by address.
import type { MasterClient } from '../wires/transport.ts';

export interface FileNamespace {
  /** The file's bytes in chunks, wherever in the namespace it lies. */
  open(path: string): AsyncIterable<Buffer>;
  /** ReadFile: a file of this worker's own part of the namespace, in chunks; fails for another's. */
  serve(path: string): AsyncIterable<Buffer>;
  /** The worker stops: its connections to other nodes go. */
  close(): void;
}

/** What a namespace learns of the worker it belongs to; asked when used, as neither is known at construction. */
export interface NamespaceHost {
  /** Its node, once it has registered with the master (undefined before). */
  node(): number | undefined;
  /** Its client of the master's services, once it has connected. */
  master(): MasterClient;
}

/** Called once, by the worker's constructor. */
export type FileNamespaceFactory = (host: NamespaceHost) => FileNamespace;
