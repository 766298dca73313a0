// A finished job replayed on the simulated hypercube: the master on node 0 hands tasks to the
// nodes they are placed on, nodes compute for a time set by their input size, and every message
// (task hand-outs, reports, commit requests, the all-to-all shuffle in 1 MiB chunks) is routed
// hop by hop through the EventNetwork. Deterministic: the same trace and model give the same
// figures, whatever the wall clock did.
import type { JobTrace, StageTrace } from '../../core/job-trace.ts';
import { DEFAULT_LINK, EventNetwork, type LinkModel, type NetworkStats } from './network-sim.ts';

export interface HypercubeModel {
  link: LinkModel;
  /** How fast a node's processor works through input, in bytes per second (map and reduce). */
  nodeBytesPerSec: number;
  /** Size of a control message (task hand-out, report, commit request or reply, fetch request). */
  controlBytes: number;
  /** The shuffle streams a partition in messages of at most this many bytes, as FetchPartition does. */
  chunkBytes: number;
}

export const DEFAULT_HYPERCUBE_MODEL: Readonly<HypercubeModel> = Object.freeze({
  link: DEFAULT_LINK,
  nodeBytesPerSec: 20e6,
  controlBytes: 256,
  chunkBytes: 1 << 20,
});

export interface JobSimulation {
  simulatedUs: number;
  /** Per stage: when its last map reported to the master, and when its last reduce did. */
  stages: { mapDoneUs: number; doneUs: number }[];
  network: NetworkStats;
}

const MASTER = 0;

export function simulateJob(trace: JobTrace, dimensions: number, model: HypercubeModel = DEFAULT_HYPERCUBE_MODEL): JobSimulation {
  const net = new EventNetwork(dimensions, model.link);
  const stages: JobSimulation['stages'] = [];
  const runStage = (index: number): void => {
    if (index >= trace.stages.length) return;
    const record = { mapDoneUs: 0, doneUs: 0 };
    stages.push(record);
    new StageReplay(net, trace.stages[index], model, (phase, atUs) => {
      if (phase === 'map') record.mapDoneUs = atUs;
      else {
        record.doneUs = atUs;
        runStage(index + 1);
      }
    }).start();
  };
  net.at(0, () => runStage(0));
  net.run();
  const simulatedUs = stages.length > 0 ? stages[stages.length - 1].doneUs : 0;
  return { simulatedUs, stages, network: net.stats() };
}

type Phase = 'map' | 'reduce';

/** One stage: the map phase, the barrier at the master, then the reduce phase. */
class StageReplay {
  private remaining = 0;

  constructor(
    private readonly net: EventNetwork,
    private readonly stage: StageTrace,
    private readonly model: HypercubeModel,
    private readonly done: (phase: Phase, atUs: number) => void,
  ) {}

  start(): void {
    this.phase('map', this.stage.maps.map((m) => m.node));
  }

  /** Each node runs the tasks placed on it one after another; the master hands out the next when one reports. */
  private phase(phase: Phase, nodes: number[]): void {
    const queues = new Map<number, number[]>();
    nodes.forEach((node, task) => queues.set(node, [...(queues.get(node) ?? []), task]));
    this.remaining = nodes.length;
    if (this.remaining === 0) {
      this.done(phase, this.net.nowUs);
      if (phase === 'map') this.phase('reduce', this.stage.reduces.map((r) => r.node));
      return;
    }
    const handOut = (node: number): void => {
      const task = queues.get(node)!.shift();
      if (task === undefined) return;
      this.net.send(MASTER, node, this.model.controlBytes, this.net.nowUs, () => {
        const run = phase === 'map' ? this.runMap.bind(this) : this.runReduce.bind(this);
        run(task, () => this.net.send(node, MASTER, this.model.controlBytes, this.net.nowUs, () => {
          if (--this.remaining === 0) {
            this.done(phase, this.net.nowUs);
            if (phase === 'map') this.phase('reduce', this.stage.reduces.map((r) => r.node));
          } else handOut(node);
        }));
      });
    };
    for (const node of [...queues.keys()].sort((a, b) => a - b)) handOut(node);
  }

  private computeUs(bytes: number): number {
    return (bytes * 1e6) / this.model.nodeBytesPerSec;
  }

  private runMap(task: number, then: () => void): void {
    this.net.at(this.net.nowUs + this.computeUs(this.stage.maps[task].inputBytes), then);
  }

  /** Fetches partition r from every map's node (its own read locally), reduces, asks to commit. */
  private runReduce(r: number, then: () => void): void {
    const node = this.stage.reduces[r].node;
    let waiting = this.stage.maps.length;
    let inputBytes = 0;
    const fetched = (): void => {
      if (--waiting > 0) return;
      this.net.at(this.net.nowUs + this.computeUs(inputBytes), () => {
        this.net.send(node, MASTER, this.model.controlBytes, this.net.nowUs, () => {
          this.net.send(MASTER, node, this.model.controlBytes, this.net.nowUs, then); // commit granted
        });
      });
    };
    if (waiting === 0) {
      waiting = 1;
      fetched();
      return;
    }
    for (const map of this.stage.maps) {
      const bytes = map.partitionBytes[r] ?? 0;
      inputBytes += bytes;
      if (map.node === node) {
        this.net.at(this.net.nowUs, fetched);
        continue;
      }
      this.net.send(node, map.node, this.model.controlBytes, this.net.nowUs, () => this.stream(map.node, node, bytes, fetched));
    }
  }

  /** A partition's bytes in chunks, all queued at once: the links pipeline them hop by hop. */
  private stream(from: number, to: number, bytes: number, done: () => void): void {
    const chunks = Math.max(1, Math.ceil(bytes / this.model.chunkBytes));
    let left = chunks;
    for (let i = 0; i < chunks; i++) {
      const size = Math.min(this.model.chunkBytes, bytes - i * this.model.chunkBytes);
      this.net.send(from, to, Math.max(0, size), this.net.nowUs, () => {
        if (--left === 0) done();
      });
    }
  }
}
