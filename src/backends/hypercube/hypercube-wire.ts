// The hypercube backend: a message-passing multicomputer of 2^d nodes. Each node's worker runs
// the job's functions for real (in worker threads of `mr run`), its messages carried over gRPC on
// loopback; tasks are placed statically (task i on node i mod N), and the finished job is
// replayed on the simulated network (job-model.ts), which gives the simulated time and the
// per-link figures of the report.
import { availableParallelism } from 'node:os';
import type { JobTrace } from '../../core/job-trace.ts';
import { createGrpcWire } from '../../wires/grpc/grpc-wire.ts';
import type { BackendReport, MachineTuning, SimulatedMachine, Wire, WireOptions } from '../../wires/transport.ts';
import { DEFAULT_HYPERCUBE_MODEL, simulateJob, type HypercubeModel } from './job-model.ts';
import { dimensionsOf } from './topology.ts';

export const DEFAULT_NODES = 8;

export function hypercubeModel(tuning: MachineTuning = {}): HypercubeModel {
  const base = DEFAULT_HYPERCUBE_MODEL;
  return {
    ...base,
    link: {
      latencyUs: tuning.linkLatencyUs ?? base.link.latencyUs,
      bandwidthBytesPerSec: tuning.linkMbPerSec !== undefined ? tuning.linkMbPerSec * 1e6 : base.link.bandwidthBytesPerSec,
    },
    nodeBytesPerSec: tuning.nodeMbPerSec !== undefined ? tuning.nodeMbPerSec * 1e6 : base.nodeBytesPerSec,
  };
}

export function createHypercubeWire(options: WireOptions = {}): Wire {
  const nodes = options.nodes ?? DEFAULT_NODES;
  const dimensions = dimensionsOf(nodes);
  const model = hypercubeModel(options.tuning);
  const machine: SimulatedMachine = {
    nodes,
    // Threads only carry the nodes' workers; more of them than cores would just contend.
    threads: Math.min(nodes, Math.max(2, availableParallelism())),
    threadData: () => undefined,
    report: (trace) => hypercubeReport(trace, dimensions, model),
  };
  return {
    ...createGrpcWire(options),
    name: 'hypercube',
    capabilities: { multiHost: false, multiProcess: false, sharedMemory: false, faultInjection: true },
    machine,
  };
}

/** Bytes per link: mean over the links that carried anything, and max. */
function linkBytes(links: readonly { bytes: number }[]): { mean: number; max: number } {
  const total = links.reduce((sum, l) => sum + l.bytes, 0);
  return { mean: links.length > 0 ? Math.round(total / links.length) : 0, max: links.reduce((max, l) => Math.max(max, l.bytes), 0) };
}

export function hypercubeReport(trace: JobTrace, dimensions: number, model: HypercubeModel): BackendReport {
  const { simulatedUs, network } = simulateJob(trace, dimensions, model);
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    name: 'hypercube',
    nodes: 1 << dimensions,
    dimensions,
    messages: network.messages,
    bytes: network.bytes,
    simulatedMs: ms(simulatedUs),
    meanHops: Math.round(network.meanHops * 1000) / 1000,
    maxHops: network.maxHops,
    hottestLink: network.hottestLink ?? null,
    bisectionBytes: network.bisectionBytes,
    linkBusyMs: { mean: ms(network.meanLinkBusyUs), max: ms(network.maxLinkBusyUs) },
    linkBytes: linkBytes(network.links),
    model: {
      linkLatencyUs: model.link.latencyUs,
      linkMbPerSec: model.link.bandwidthBytesPerSec / 1e6,
      nodeMbPerSec: model.nodeBytesPerSec / 1e6,
    },
    links: network.links.map((l) => ({ from: l.from, to: l.to, bytes: l.bytes, busyMs: ms(l.busyUs), messages: l.messages })),
  };
}
