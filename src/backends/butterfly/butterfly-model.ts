// The butterfly's cost model: the switch's access costs, how fast a processor computes, and the
// real machines' figures by name (--preset), which explicit knobs override.
import type { MachineTuning } from '../../wires/transport.ts';
import { pickPreset } from '../machine-presets.ts';
import { DEFAULT_ACCESS_COSTS, type AccessCosts } from './switch-network.ts';

export interface ButterflyModel {
  costs: AccessCosts;
  /** How fast a processor works through input, in bytes per second (map and reduce). */
  nodeBytesPerSec: number;
  /** Bytes moved by one access (a switch transaction); larger accesses are split into blocks. */
  blockBytes: number;
  /** The preset the figures came from, if any. */
  preset: string | null;
}

export const DEFAULT_BUTTERFLY_MODEL: Readonly<ButterflyModel> = Object.freeze({
  costs: DEFAULT_ACCESS_COSTS,
  nodeBytesPerSec: 20e6,
  blockBytes: 256,
  preset: null,
});

/** The machines' word: the presets' costs are given for a reference of this many bytes. */
export const WORD_BYTES = 4;

// Each preset is fitted to a word-sized reference on a 16-processor machine (4 stages of 2x2
// switches here), spread over the knobs as: local = 4 x localNsPerByte; remote = 4 stages x
// perStageNs + 4 x remoteNsPerByte. Most of a remote reference was the processor node
// controller's work at both ends, not the switch, so perStageNs is small and the ratio moves
// little with the machine's size (on 4 processors it is a little lower, on 64 a little higher).
export const BUTTERFLY_PRESETS: Readonly<Record<string, AccessCosts>> = Object.freeze({
  // BBN Butterfly-I (MC68000): a local reference under 1 us (0.8), a remote one about 4 us: 5:1.
  butterfly1: { localNsPerByte: 200, remoteNsPerByte: 900, perStageNs: 100 },
  // BBN Butterfly TC2000 (88100): local memory got much faster than the switch: about 15:1
  // (0.14 us local, about 2.1 us remote).
  tc2000: { localNsPerByte: 35, remoteNsPerByte: 465, perStageNs: 60 },
});

/** The model a run asks for: the defaults, then the preset's costs, then each knob given. */
export function modelOf(tuning: MachineTuning): ButterflyModel {
  const preset = pickPreset('butterfly', BUTTERFLY_PRESETS, tuning.preset);
  const base = preset ?? DEFAULT_BUTTERFLY_MODEL.costs;
  return {
    costs: {
      localNsPerByte: tuning.localNsPerByte ?? base.localNsPerByte,
      remoteNsPerByte: tuning.remoteNsPerByte ?? base.remoteNsPerByte,
      perStageNs: tuning.stageNs ?? base.perStageNs,
    },
    nodeBytesPerSec: tuning.nodeMbPerSec !== undefined ? tuning.nodeMbPerSec * 1e6 : DEFAULT_BUTTERFLY_MODEL.nodeBytesPerSec,
    blockBytes: DEFAULT_BUTTERFLY_MODEL.blockBytes,
    preset: preset ? tuning.preset! : null,
  };
}
