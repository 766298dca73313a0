// The butterfly's figures for a finished job, read from the live switch fabric's counters: what
// the processors' accesses did as the job ran, not a replay of it afterwards.
import type { BackendReport } from '../../wires/transport.ts';
import { WORD_BYTES, type ButterflyModel } from './butterfly-model.ts';
import { readFabric, type FabricMemory } from './switch-fabric.ts';
import { remoteToLocal } from './switch-network.ts';

const MIB = 1 << 20;

/** The master's calls served, by method, on the task board and on the rings. */
export interface ControlCalls {
  board: Record<string, number>;
  rings: Record<string, number>;
}

/**
 * The hot spot: the module whose accesses the switch refused most, and its share of the
 * refusals. Contention, not volume: a module read in long blocks by one reducer at a time is
 * busy, not hot; a word every processor touches at once is hot.
 */
function hotSpot(byModule: readonly number[]): { hotModule: number | null; hotModuleShare: number } {
  const total = byModule.reduce((a, b) => a + b, 0);
  if (total === 0) return { hotModule: null, hotModuleShare: 0 };
  const hot = byModule.indexOf(Math.max(...byModule));
  return { hotModule: hot, hotModuleShare: Math.round((byModule[hot] / total) * 1000) / 1000 };
}
const ms = (ns: number): number => Math.round(ns / 1000) / 1000;

export function butterflyReport(fabric: FabricMemory | undefined, nodes: number, moduleBytes: number, model: ButterflyModel, calls?: ControlCalls): BackendReport {
  const totals = fabric ? readFabric(fabric) : undefined;
  const stages = Math.log2(nodes);
  const ratio = remoteToLocal(WORD_BYTES, nodes, model.costs);
  return {
    name: 'butterfly',
    nodes,
    messages: totals?.remoteAccesses ?? 0,
    bytes: (totals?.localBytes ?? 0) + (totals?.remoteBytes ?? 0),
    simulatedMs: ms(Math.max(0, ...(totals?.clocksNs ?? []))),
    stages,
    localBytes: totals?.localBytes ?? 0,
    remoteBytes: totals?.remoteBytes ?? 0,
    switchConflicts: totals?.conflictsPerStage ?? new Array<number>(stages).fill(0),
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
    boardCalls: { requestTask: 0, reportAttempt: 0, reportAttempts: 0, ...calls?.board },
    ringCalls: { ...calls?.rings },
    boardAccesses: totals?.boardAccesses ?? 0,
    boardBytes: totals?.boardBytes ?? 0,
    boardConflicts: totals?.boardConflictsPerStage ?? new Array<number>(stages).fill(0),
    barrierArrivals: totals?.barrierArrivals ?? 0,
    barrierLate: totals?.barrierLate ?? 0,
    remoteAccessesByModule: totals?.remoteAccessesByModule ?? new Array<number>(nodes).fill(0),
    conflictsByModule: totals?.conflictsByModule ?? new Array<number>(nodes).fill(0),
    ...hotSpot(totals?.conflictsByModule ?? []),
    model: { ...model.costs, blockBytes: model.blockBytes, nodeMbPerSec: model.nodeBytesPerSec / 1e6 },
  };
}
