// The ssi pool's one file namespace: /cluster/<node>/<path> names the file <path> under node
// <node>'s work directory, from every node; a plain relative path (map-out/<id>/r-0) names the
// same file wherever it lies, without saying where: this node's copy if it has one, else the
// first node that has it (found once, then remembered). Opening a path reads the local file, or
// streams it from the node that has it (ReadFile); where each node serves is asked of the master
// and cached, and asked again when a node is not found. The ssi backend gives one to each of its
// workers (see backend.ts); `mr cat` uses one seen from no node.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { UsageError } from '../../errors.ts';
import type { Transport, WorkerClient } from '../../wires/transport.ts';
import { CHUNK_BYTES } from '../../storage/map-output-store.ts';
import type { FileNamespace, NamespaceHost } from '../../worker/file-namespace.ts';

export interface ClusterPath {
  node: number;
  /** Relative to the node's work directory, normalised, never above it. */
  rest: string;
}

/** A plain path of the namespace: relative, normalised, never above the work directory. */
export function checkPlainPath(path: string): string {
  const rest = normalize(path);
  if (path.startsWith('/') || rest.startsWith('..') || rest.split(sep).includes('..') || rest === '.') {
    throw new UsageError(`${JSON.stringify(path)} is not a path of the cluster namespace (/cluster/<node>/<path>, or a relative path)`);
  }
  return rest;
}

export function parseClusterPath(path: string): ClusterPath {
  const match = /^\/cluster\/(\d+)\/(.+)$/.exec(path);
  const rest = match ? normalize(match[2]) : '';
  if (!match || rest.startsWith('..') || rest.startsWith(sep) || rest.split(sep).includes('..')) {
    throw new UsageError(`${JSON.stringify(path)} is not a path of the cluster namespace (/cluster/<node>/<path>)`);
  }
  return { node: Number(match[1]), rest };
}

export class ClusterNamespace implements FileNamespace {
  private addresses = new Map<number, string>();
  private readonly peers = new Map<string, WorkerClient>();
  private readonly found = new Map<string, number>();    // directory of a plain path -> the node that had it
  /** Requests sent to the node that owns the file (ReadFile): the single system image's forwarding. */
  forwarded = 0;

  /**
   * host: the worker whose node this is (none for a client such as `mr cat`: every path is another
   * node's). holderOf: the node the cluster's agreed namespace says holds a path (its mirror in
   * etcd), tried first; without it, or when it does not know, the nodes are asked one by one.
   */
  constructor(
    private readonly host: NamespaceHost,
    private readonly workDir: string,
    private readonly transport: Transport,
    private readonly holderOf?: (path: string) => Promise<number | undefined>,
  ) {}

  /** The local file behind a path of this node's, or undefined for another node's. */
  localPath(path: string): string | undefined {
    const { node, rest } = parseClusterPath(path);
    return node === this.host.node() ? join(this.workDir, rest) : undefined;
  }

  /** ReadFile: a file of this node's; another node's is refused. */
  serve(path: string): AsyncIterable<Buffer> {
    const local = this.localPath(path);
    if (local === undefined) throw new UsageError(`${path} is not on node ${this.host.node()} (this worker)`);
    return readLocal(local, path);
  }

  /** The file's bytes in chunks, wherever it lies. */
  async *open(path: string): AsyncGenerator<Buffer> {
    if (!path.startsWith('/cluster/')) {
      yield* this.openPlain(checkPlainPath(path));
      return;
    }
    const local = this.localPath(path);
    if (local !== undefined) {
      yield* readLocal(local, path);
      return;
    }
    const { node } = parseClusterPath(path);
    const address = await this.resolve(node);
    let peer = this.peers.get(address);
    if (!peer) this.peers.set(address, (peer = this.transport.connectWorker(address)));
    if (!peer.readFile) throw new UsageError(`the ${this.transport.name} backend cannot read ${path} from node ${node}`);
    this.forwarded++;
    yield* peer.readFile({ path });
  }

  /** A plain path: here if this node has it, else on the node that has it. */
  private async *openPlain(rest: string): AsyncGenerator<Buffer> {
    const self = this.host.node();
    const local = join(this.workDir, rest);
    if (await exists(local)) {
      yield* readLocal(local, rest);
      return;
    }
    const dir = dirname(rest);
    const known = this.found.get(dir) ?? await this.holderOf?.(dir).catch(() => undefined);
    const { nodes } = await this.host.master().resolveNodes({});
    this.addresses = new Map(nodes.map((n) => [n.node, n.address]));
    const order = [...(known === undefined ? [] : [known]), ...nodes.map((n) => n.node).filter((n) => n !== known && n !== self)];
    for (const node of order) {
      const chunks = this.open(`/cluster/${node}/${rest}`)[Symbol.asyncIterator]();
      let first: IteratorResult<Buffer>;
      try {
        first = await chunks.next();
      } catch (error) {
        if (error instanceof UsageError || /no file/.test(String((error as Error).message))) continue; // not on that node
        throw error;
      }
      this.found.set(dir, node);
      if (!first.done) yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      return;
    }
    throw new UsageError(`no file ${rest} on any node`);
  }

  private async resolve(node: number): Promise<string> {
    let address = this.addresses.get(node);
    if (address === undefined) {
      const { nodes } = await this.host.master().resolveNodes({});
      this.addresses = new Map(nodes.map((n) => [n.node, n.address]));
      address = this.addresses.get(node);
    }
    if (address === undefined) throw new UsageError(`node ${node} is not in the pool`);
    return address;
  }

  /** Forgets where nodes are (one of them moved or went away). */
  forget(): void {
    this.addresses.clear();
  }

  close(): void {
    for (const peer of this.peers.values()) peer.close();
  }
}

/** A file of this node's, for ReadFile: in chunks of at most CHUNK_BYTES; errors name it as shownAs. */
export async function* readLocal(path: string, shownAs = path): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new UsageError(`no file ${shownAs}`);
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
