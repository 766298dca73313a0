// A butterfly node's map outputs: final partitions are written straight into the node's memory
// module (or its spill file when they do not fit), and any node reads any partition where it
// lies, through the shared directory: no copy, no message. Given the node's FabricPort, the
// bytes it writes into its module and the partitions it reads from any module are charged on
// the switch as they are touched.
import { addCounters, type Counters } from '../../core/counters.ts';
import { RunWriter, type RunRef } from '../../storage/run-file.ts';
import { MapOutputStore } from '../../storage/map-output-store.ts';
import { CHUNK_BYTES } from '../../storage/map-output-store.ts';
import { HeapModule, lookupPartition, spillPath, type HeapMemory } from './shared-heap.ts';
import type { FabricPort } from './switch-fabric.ts';

/** Map counters of where the butterfly kept map outputs. */
export const BUTTERFLY_COUNTER = {
  moduleBytes: 'butterfly.moduleBytes',
  spilledBytes: 'butterfly.spilledBytes',
  spilledPartitions: 'butterfly.spilledPartitions',
} as const;

export class ModuleOutputStore extends MapOutputStore {
  private readonly module: HeapModule;

  constructor(
    private readonly heap: HeapMemory,
    readonly node: number,
    private readonly rootOf: (node: number) => string,
    private readonly port?: FabricPort,
  ) {
    super(rootOf(node));
    this.module = new HeapModule(heap, node, rootOf(node), port);
  }

  private readonly kept = new Map<string, Counters>();

  /** Writes into the module; what ends up in the spill file instead is counted per output. */
  override async openPartition(outputId: string, partition: number): Promise<RunWriter> {
    const sink = this.module.openPartition(outputId, partition);
    const counters = this.kept.get(outputId) ?? this.kept.set(outputId, {}).get(outputId)!;
    return new RunWriter({
      write: (text) => sink.write(text),
      close: async () => {
        const [spilledBefore, partitionsBefore] = [this.module.bytesSpilled, this.module.partitionsSpilled];
        const bytes = await sink.close();
        const spilled = this.module.bytesSpilled - spilledBefore;
        addCounters(counters, {
          [BUTTERFLY_COUNTER.moduleBytes]: bytes - spilled,
          [BUTTERFLY_COUNTER.spilledBytes]: spilled,
          [BUTTERFLY_COUNTER.spilledPartitions]: this.module.partitionsSpilled - partitionsBefore,
        });
        return bytes;
      },
    });
  }

  override outputCounters(outputId: string): Counters {
    const counters = this.kept.get(outputId) ?? {};
    this.kept.delete(outputId);
    return counters;
  }

  /**
   * Any node's partition: a view of the module it lies in, or the path of its spill file. A
   * reducer asks for a partition to read it whole, so it is charged here: its bytes as an access
   * to the module it lies in, then the work of going through them. A spilled partition is read
   * from disk, which the switch model leaves out.
   */
  override async localRun(outputId: string, partition: number): Promise<RunRef | undefined> {
    const found = lookupPartition(this.heap, outputId, partition, this.port);
    if (!found) return undefined;
    if (!('view' in found)) return spillPath(this.rootOf(found.node), outputId, partition);
    this.port?.access(found.node, found.view.length);
    this.port?.compute(found.view.length);
    return found.view;
  }

  override async has(outputId: string): Promise<boolean> {
    return lookupPartition(this.heap, outputId, 0, this.port) !== undefined || super.has(outputId);
  }

  override async remove(outputId: string): Promise<void> {
    this.kept.delete(outputId);
    await this.module.remove(outputId);
    await super.remove(outputId);
  }

  override async *read(outputId: string, partition: number): AsyncGenerator<Buffer> {
    const run = await this.localRun(outputId, partition);
    if (typeof run === 'string' || run === undefined) {
      yield* super.read(outputId, partition);
      return;
    }
    for (let at = 0; at < run.length; at += CHUNK_BYTES) yield run.subarray(at, at + CHUNK_BYTES);
  }
}
