// A butterfly node's map outputs: final partitions are written straight into the node's memory
// module (or its spill file when they do not fit), and any node reads any partition where it
// lies, through the shared directory: no copy, no message.
import { addCounters, type Counters } from '../../core/counters.ts';
import { RunWriter, type RunRef } from '../../storage/run-file.ts';
import { MapOutputStore } from '../../storage/map-output-store.ts';
import { CHUNK_BYTES } from '../../storage/map-output-store.ts';
import { HeapModule, lookupPartition, spillPath, type HeapMemory } from './shared-heap.ts';

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
  ) {
    super(rootOf(node));
    this.module = new HeapModule(heap, node, rootOf(node));
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

  /** Any node's partition: a view of the module it lies in, or the path of its spill file. */
  override async localRun(outputId: string, partition: number): Promise<RunRef | undefined> {
    const found = lookupPartition(this.heap, outputId, partition);
    if (!found) return undefined;
    return 'view' in found ? found.view : spillPath(this.rootOf(found.node), outputId, partition);
  }

  override async has(outputId: string): Promise<boolean> {
    return (await this.localRun(outputId, 0)) !== undefined || super.has(outputId);
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
