// Pure: how many tiny map tasks a worker that asked for a batch gets in one reply. A batch saves
// a round trip per task, but a task queued behind others waits, and a batch taken near the end
// of a phase leaves other workers idle; so batches are for map tasks known to be short.
import { inputBytes } from './splits.ts';
import type { StageRecord } from './task-table.ts';

/** A batch should take about this long to run, by the stage's committed maps so far. */
export const BATCH_TARGET_MS = 25;
/** Nor read more than this in all. */
export const BATCH_MAX_INPUT_BYTES = 4 << 20;
/** A worker gets at most this share of the phase's unfinished tasks per live worker at once. */
const SHARE_OF_REMAINING = 1 / 4;

/**
 * How many map tasks of the stage the worker may get in one reply (at least 1): what it asked for,
 * at most BATCH_TARGET_MS of work by the mean run time of the maps committed so far (none known
 * yet: one), and a fair part of what remains, so that the phase's end is shared by all workers.
 */
export function batchLimit(stage: StageRecord, maxTasks: number, liveWorkers: number): number {
  if (maxTasks <= 1 || stage.mapTally.timedTasks === 0) return 1;
  const meanMs = stage.mapTally.timedMs / stage.mapTally.timedTasks;
  const byTime = meanMs <= 0 ? maxTasks : Math.floor(BATCH_TARGET_MS / meanMs);
  const remaining = stage.maps.length - stage.mapTally.done;
  const byShare = Math.floor((remaining * SHARE_OF_REMAINING) / Math.max(1, liveWorkers));
  return Math.max(1, Math.min(maxTasks, byTime, byShare));
}

/** Whether one more map task of this input still fits a batch that reads batchBytes so far. */
export function fitsBatch(stage: StageRecord, index: number, batchBytes: number): boolean {
  return batchBytes + inputBytes(stage.splits[index]) <= BATCH_MAX_INPUT_BYTES;
}
