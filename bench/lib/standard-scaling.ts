// Section 3 of the standard benchmark: input-size scaling. The grpc word count at a few worker
// counts over corpora of growing size; a job whose time grows faster than its input (a sort
// that degrades, a spill storm, a master that scans every task) shows as time(4x)/time(x) > 4.
import { benchRun, describeRun, median, outputsIdentical, type BenchRun } from '../../src/bench/sweep.ts';
import { progress } from './progress.ts';
import type { StandardOptions } from './standard-options.ts';
import { corpusOf, wordcountPlan, type SweepResult } from './standard-sweep.ts';

export const SCALING_TRANSPORT = 'grpc';

export interface ScalingPoint {
  mib: number;
  bytes: number;
  workers: number;
  /** Medians over the successful runs; NaN (null in the JSON) when none succeeded. */
  wallMs: number;
  engineMs: number;
  mbPerSec: number;
  runs: number;
  failed: number;
  /** Taken from the sweep, which ran the same corpus and backend. */
  fromSweep: boolean;
}

export interface ScalingRatio {
  workers: number;
  fromMib: number;
  toMib: number;
  /** time(toMib) / time(fromMib): wall time, and the engine's own elapsed time. */
  wallRatio: number;
  engineRatio: number;
}

export interface ScalingResult {
  transport: string;
  workers: number[];
  points: ScalingPoint[];
  ratios: ScalingRatio[];
  /** At each size, every run wrote the same output whatever its worker count. */
  identicalPerSize: boolean;
  runs: (BenchRun & { mib: number })[];
}

export function scalingPoint(mib: number, bytes: number, workers: number, runs: BenchRun[], fromSweep: boolean): ScalingPoint {
  const ok = runs.filter((r) => r.ok);
  const wallMs = median(ok.map((r) => r.wallMs));
  return {
    mib, bytes, workers, wallMs, engineMs: median(ok.map((r) => r.engineMs ?? NaN)),
    mbPerSec: bytes / 1e6 / (wallMs / 1000), runs: ok.length, failed: runs.length - ok.length, fromSweep,
  };
}

/** Every pair (x, 4x) of sizes measured at the same worker count. */
export function scalingRatios(points: ScalingPoint[]): ScalingRatio[] {
  const ratios: ScalingRatio[] = [];
  for (const from of points) {
    const to = points.find((p) => p.workers === from.workers && p.mib === from.mib * 4);
    if (!to) continue;
    ratios.push({ workers: from.workers, fromMib: from.mib, toMib: to.mib, wallRatio: to.wallMs / from.wallMs, engineRatio: to.engineMs / from.engineMs });
  }
  return ratios.sort((a, b) => a.workers - b.workers || a.fromMib - b.fromMib);
}

export async function runScaling(options: StandardOptions, sweep: SweepResult | undefined, scratch: string): Promise<ScalingResult> {
  const points: ScalingPoint[] = [];
  const runs: (BenchRun & { mib: number })[] = [];
  let identicalPerSize = true;
  for (const mib of [...options.scalingMib].sort((a, b) => a - b)) {
    const corpus = await corpusOf(mib);
    const plan = wordcountPlan(corpus, options, scratch);
    const atSize: BenchRun[] = [];
    for (const workers of options.scalingWorkers) {
      // The sweep already ran this corpus on this backend: its runs count here too.
      const swept = sweep?.corpus.mib === mib ? sweep.runs.filter((r) => r.transport === SCALING_TRANSPORT && r.workers === workers) : [];
      const mine: BenchRun[] = [...swept];
      if (swept.length === 0) {
        for (let repeat = 1; repeat <= options.repeat; repeat++) {
          const run = await benchRun(plan, SCALING_TRANSPORT, workers, repeat);
          progress(`scaling: ${mib} MiB, ${describeRun(run)}`);
          mine.push(run);
        }
      } else progress(`scaling: ${mib} MiB, ${SCALING_TRANSPORT} x${workers}: taken from the sweep`);
      atSize.push(...mine);
      runs.push(...mine.map((r) => ({ ...r, mib })));
      points.push(scalingPoint(mib, corpus.bytes, workers, mine, swept.length > 0));
    }
    identicalPerSize &&= outputsIdentical(atSize);
  }
  return { transport: SCALING_TRANSPORT, workers: options.scalingWorkers, points, ratios: scalingRatios(points), identicalPerSize, runs };
}
