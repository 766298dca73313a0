// The butterfly's memory: N memory modules in one SharedArrayBuffer, plus a shared directory of
// where each map output partition lies, so a reducer in any thread reads a partition in place.
// Each module has one owner thread (its HeapModule), the only one that writes to it or to its
// part of the directory; every thread may look partitions up. Given a processor's FabricPort,
// each touch of module memory (bytes written, directory words) is charged on the switch as made.
//
// Limits: nodes is a power of two from 1 to 1024 (as the switch network); a module holds 4 KiB
// to 1 GiB, and all modules together at most 4 GiB. Offsets in the directory are relative to
// their module, so they fit an Int32 word whatever the module's number.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectoryWriter, ENTRY_BYTES, entryKey, findEntry, type EntryKey, type Placement, type WordsRead } from './heap-directory.ts';
import { ModuleSpace } from './module-space.ts';
import { PartitionWriter, type PartitionSink, type SinkOwner } from './heap-partition-sink.ts';
import { stagesOf } from './switch-network.ts';
import type { FabricPort } from './switch-fabric.ts';

export type { PartitionSink } from './heap-partition-sink.ts';

export const MIN_MODULE_BYTES = 4096;
export const MAX_MODULE_BYTES = 2 ** 30;
export const MAX_HEAP_BYTES = 2 ** 32;
export const DEFAULT_ENTRIES_PER_MODULE = 4096;
const MIN_ENTRIES_PER_MODULE = 16;
const MAX_DIRECTORY_BYTES = 2 ** 30;

/** A plain object of SharedArrayBuffers: pass it to worker threads in workerData, it is shared, not copied. */
export interface HeapMemory {
  nodes: number;
  moduleBytes: number;
  entriesPerModule: number;     // directory slots of each module: how many partitions it can list at once
  data: SharedArrayBuffer;      // module m is bytes [m * moduleBytes, (m + 1) * moduleBytes)
  directory: SharedArrayBuffer; // module m's entries follow module m-1's
}

export function createHeap(nodes: number, moduleBytes: number, options: { entriesPerModule?: number } = {}): HeapMemory {
  stagesOf(nodes);
  if (!Number.isInteger(moduleBytes) || moduleBytes < MIN_MODULE_BYTES || moduleBytes > MAX_MODULE_BYTES) {
    throw new RangeError(`a memory module holds an integer number of bytes from ${MIN_MODULE_BYTES} to ${MAX_MODULE_BYTES}, got ${moduleBytes}`);
  }
  if (nodes * moduleBytes > MAX_HEAP_BYTES) {
    throw new RangeError(`the heap holds at most ${MAX_HEAP_BYTES} bytes, but ${nodes} modules of ${moduleBytes} bytes need ${nodes * moduleBytes}: use smaller modules`);
  }
  const entriesPerModule = options.entriesPerModule ?? DEFAULT_ENTRIES_PER_MODULE;
  const directoryBytes = nodes * entriesPerModule * ENTRY_BYTES;
  if (!Number.isInteger(entriesPerModule) || entriesPerModule < MIN_ENTRIES_PER_MODULE || directoryBytes > MAX_DIRECTORY_BYTES) {
    throw new RangeError(`entriesPerModule must be an integer of at least ${MIN_ENTRIES_PER_MODULE}, and the directory (${ENTRY_BYTES} bytes an entry) at most ${MAX_DIRECTORY_BYTES} bytes; got ${entriesPerModule} for ${nodes} modules`);
  }
  return {
    nodes,
    moduleBytes,
    entriesPerModule,
    data: new SharedArrayBuffer(nodes * moduleBytes),
    directory: new SharedArrayBuffer(directoryBytes),
  };
}

/** Where the owner of a module puts a partition that did not fit in it. */
export function spillPath(spillDir: string, outputId: string, partition: number): string {
  entryKey(outputId, partition);   // checks outputId is one safe path component
  return join(spillDir, outputId, `r-${partition}`);
}

export type PartitionLocation = { node: number; view: Buffer } | { node: number; spilled: true };

const WORD_BYTES = 4;

/**
 * Finds a published partition, from any thread. `view` is a zero-copy Buffer over the module:
 * valid until its owner removes the output (the space may then hold another partition). A spilled
 * partition lies at spillPath(spillDir of its node, outputId, partition). Probes every module's
 * part of the directory: the owner of a partition is not known in advance. With the reader's
 * port, the words probed in each module are accesses to that module, and the reader's clock
 * moves on to when the partition was published.
 */
export function lookupPartition(heap: HeapMemory, outputId: string, partition: number, port?: FabricPort): PartitionLocation | undefined {
  const key = entryKey(outputId, partition);
  const read: WordsRead = { words: 0 };
  for (let node = 0; node < heap.nodes; node++) {
    read.words = 0;
    const found = findEntry(heap.directory, node, heap.entriesPerModule, key, read);
    if (found) port?.waitUntil(found.stampUs * 1000);   // the probe that found it came after it was published
    port?.access(node, read.words * WORD_BYTES);
    if (!found) continue;
    if (found.place === 'spilled') return { node, spilled: true };
    return { node, view: Buffer.from(heap.data, node * heap.moduleBytes + found.offset, found.length) };
  }
  return undefined;
}

interface StoredPartition {
  slot: number;
  placement: Placement;
}

/**
 * The owner thread's handle on its memory module; one per module, in one thread. Allocation: a
 * list of free extents. The one partition being written into the module takes the largest free
 * extent and returns the unused end when it closes; remove() returns an output's extents, merged
 * with their free neighbours. A partition opened while another writes to the module, or that
 * outgrows its extent, goes to its spill file instead.
 */
export class HeapModule {
  /** Bytes of partitions closed in the module, and of partitions closed in spill files. */
  bytesInModule = 0;
  bytesSpilled = 0;
  partitionsSpilled = 0;

  private readonly bytes: Uint8Array;
  private readonly space: ModuleSpace;
  private readonly directory: DirectoryWriter;
  private readonly stored = new Map<string, Map<number, StoredPartition>>();   // outputId -> partition -> where
  private readonly open = new Map<string, Set<number>>();                     // partitions being written
  private holder?: PartitionWriter;   // the sink writing into the module, if any

  /** port: the owner processor's way into the switch, charged for what it writes here. */
  constructor(readonly heap: HeapMemory, readonly node: number, readonly spillDir: string, private readonly port?: FabricPort) {
    if (!Number.isInteger(node) || node < 0 || node >= heap.nodes) throw new RangeError(`node ${node} is not in 0..${heap.nodes - 1}`);
    this.bytes = new Uint8Array(heap.data, node * heap.moduleBytes, heap.moduleBytes);
    this.space = new ModuleSpace(heap.moduleBytes);
    this.directory = new DirectoryWriter(heap.directory, node, heap.entriesPerModule);
  }

  openPartition(outputId: string, partition: number): PartitionSink {
    const key = entryKey(outputId, partition);
    if (this.open.get(outputId)?.has(partition) || this.stored.get(outputId)?.has(partition)) {
      throw new Error(`partition ${partition} of output '${outputId}' is already written or being written on node ${this.node}: remove the output first`);
    }
    mapOf(this.open, outputId, () => new Set()).add(partition);
    const extent = this.holder ? undefined : this.space.takeLargest();
    const writer = new PartitionWriter(this.owner(outputId, key), this.bytes, extent, spillPath(this.spillDir, outputId, partition));
    if (extent) this.holder = writer;
    return writer;
  }

  /** Frees the module space of every partition of the output, its directory entries and spill files. */
  async remove(outputId: string): Promise<void> {
    entryKey(outputId, 0);
    if (this.open.get(outputId)?.size) throw new Error(`output '${outputId}' still has partitions open for writing on node ${this.node}: close them first`);
    for (const { slot, placement } of this.stored.get(outputId)?.values() ?? []) {
      this.directory.delete(slot);
      this.port?.access(this.node, WORD_BYTES);
      if (placement.place === 'module') this.space.release(placement.offset, placement.length);
    }
    this.stored.delete(outputId);
    await rm(join(this.spillDir, outputId), { recursive: true, force: true });
  }

  /** Bytes of the module holding closed partitions or written by the open one. */
  usedBytes(): number {
    return this.heap.moduleBytes - this.space.freeBytes() - (this.holder?.reservedBytes() ?? 0);
  }

  /** What a sink may do to its module: give space back, and publish itself when it closes. */
  private owner(outputId: string, key: EntryKey): SinkOwner {
    const done = (): void => {
      this.open.get(outputId)?.delete(key.partition);
      if (this.open.get(outputId)?.size === 0) this.open.delete(outputId);
    };
    return {
      releaseSpace: (sink, offset, length) => {
        this.space.release(offset, length);
        if (this.holder === sink) this.holder = undefined;
      },
      touch: (bytes) => this.port?.access(this.node, bytes),
      publish: (placement) => {
        this.port?.access(this.node, ENTRY_BYTES);   // charged first: the entry is readable once written
        const slot = this.directory.publish(key, placement, this.port?.clockNs);
        done();
        mapOf(this.stored, outputId, () => new Map()).set(key.partition, { slot, placement });
        if (placement.place === 'module') {
          this.bytesInModule += placement.length;
        } else {
          this.bytesSpilled += placement.length;
          this.partitionsSpilled++;
          this.port?.spilled(placement.length);
        }
      },
      abandon: done,
    };
  }
}

function mapOf<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}
