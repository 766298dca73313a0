// The butterfly's figures for a finished job, read from the live switch fabric's counters: what
// the processors' accesses did as the job ran, not a replay of it afterwards.
import type { BackendReport } from '../../wires/transport.ts';
import { WORD_BYTES, type ButterflyModel } from './butterfly-model.ts';
import { readFabric, type FabricMemory } from './switch-fabric.ts';
import { remoteToLocal } from './switch-network.ts';

const MIB = 1 << 20;
const ms = (ns: number): number => Math.round(ns / 1000) / 1000;

export function butterflyReport(fabric: FabricMemory | undefined, nodes: number, moduleBytes: number, model: ButterflyModel): BackendReport {
  const totals = fabric ? readFabric(fabric) : undefined;
  const ratio = remoteToLocal(WORD_BYTES, nodes, model.costs);
  return {
    name: 'butterfly',
    nodes,
    messages: totals?.remoteAccesses ?? 0,
    bytes: (totals?.localBytes ?? 0) + (totals?.remoteBytes ?? 0),
    simulatedMs: ms(Math.max(0, ...(totals?.clocksNs ?? []))),
    stages: Math.log2(nodes),
    localBytes: totals?.localBytes ?? 0,
    remoteBytes: totals?.remoteBytes ?? 0,
    switchConflicts: totals?.conflictsPerStage ?? new Array<number>(Math.log2(nodes)).fill(0),
    switchTraversals: (totals?.remoteAccesses ?? 0) * Math.log2(nodes),
    localAccesses: totals?.localAccesses ?? 0,
    remoteAccesses: totals?.remoteAccesses ?? 0,
    localCostMs: ms(totals?.localNs ?? 0),
    remoteCostMs: ms(totals?.remoteNs ?? 0),
    computeMs: ms(totals?.computeNs ?? 0),
    processorMs: (totals?.clocksNs ?? []).map(ms),
    remoteToLocalCost: ratio === null ? null : Math.round(ratio * 100) / 100,
    preset: model.preset,
    moduleMib: Math.round((moduleBytes / MIB) * 1000) / 1000,
    spilledBytes: totals?.spilledBytes ?? 0,
    model: { ...model.costs, blockBytes: model.blockBytes, nodeMbPerSec: model.nodeBytesPerSec / 1e6 },
  };
}
