// The ssi pool's one file namespace: /cluster/<node>/<path> names the file <path> under node
// <node>'s work directory, from every node. Opening a path reads the local file when the node is
// this one, and streams it from the node that has it otherwise (ReadFile); where each node
// serves is asked of the master and cached, and asked again when a node is not found or moved.
import { createReadStream } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { UsageError } from '../errors.ts';
import type { MasterClient, Transport, WorkerClient } from '../transport/transport.ts';
import { CHUNK_BYTES } from './map-output-store.ts';

export interface ClusterPath {
  node: number;
  /** Relative to the node's work directory, normalised, never above it. */
  rest: string;
}

export function parseClusterPath(path: string): ClusterPath {
  const match = /^\/cluster\/(\d+)\/(.+)$/.exec(path);
  const rest = match ? normalize(match[2]) : '';
  if (!match || rest.startsWith('..') || rest.startsWith(sep) || rest.split(sep).includes('..')) {
    throw new UsageError(`${JSON.stringify(path)} is not a path of the cluster namespace (/cluster/<node>/<path>)`);
  }
  return { node: Number(match[1]), rest };
}

export class ClusterNamespace {
  private addresses = new Map<number, string>();
  private readonly peers = new Map<string, WorkerClient>();

  constructor(
    private readonly self: () => number | undefined,
    private readonly workDir: string,
    private readonly master: () => MasterClient,
    private readonly transport: Transport,
  ) {}

  /** The local file behind a path of this node's, or undefined for another node's. */
  localPath(path: string): string | undefined {
    const { node, rest } = parseClusterPath(path);
    return node === this.self() ? join(this.workDir, rest) : undefined;
  }

  /** The file's bytes in chunks, wherever it lies. */
  async *open(path: string): AsyncGenerator<Buffer> {
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
    yield* peer.readFile({ path });
  }

  private async resolve(node: number): Promise<string> {
    let address = this.addresses.get(node);
    if (address === undefined) {
      const { nodes } = await this.master().resolveNodes({});
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
