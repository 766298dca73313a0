// A stage's progress as users see it: per phase a fraction that never goes backwards, from the
// task records, what running attempts last reported, and the progress shown before. No I/O, no clock.
import { COUNTER } from './counters.ts';
import { inputBytes } from './splits.ts';
import type { StageRecord, TaskRecord } from './task-table.ts';
import type { Checkpoint } from '../wires/contract.gen.ts';

/** What a running attempt last said in its worker's heartbeat (absent: nothing known). */
export interface AttemptFigures {
  inputBytesRead?: number;       // map: bytes of its split read so far
  checkpoint?: Checkpoint | null; // map: its latest checkpoint (see worker/map-checkpoint.ts)
  outputsFetched?: number;       // reduce: map outputs of its partition gathered so far
  records?: number;              // records mapped, emitted or reduced so far (the task timeout's measure)
}

/**
 * What the numbers mean (docs/running.md, "Progress"):
 * - map: (committed maps + for each running map the share of its split read, at most 0.99) / maps.
 * - reduce: (committed reduces + for each running reduce a third times the share of map outputs
 *   gathered) / reduces. Merging and reducing count nothing until the reduce commits.
 * - Both are the largest value seen for the stage: work lost later (a map output gone with its
 *   worker) is shown as mapRerunning, never by lowering the fraction. A fraction is 1 only once
 *   every task of the phase has committed at some point.
 * - mapBytesRead: input bytes read by committed maps (their map.inputBytes counter) plus what
 *   running maps reported; mapBytesTotal: the stage's input (the sum of its splits).
 *   reduceBytesRead: the partition bytes of committed reduces; reduceBytesTotal: the committed
 *   map outputs' bytes (final once every map has committed). Read figures never decrease either.
 */
export interface StageProgress {
  map: number;
  reduce: number;
  mapRerunning: number;          // maps committed once whose output was lost, not committed again yet
  mapBytesRead: number;
  mapBytesTotal: number;
  reduceBytesRead: number;
  reduceBytesTotal: number;
}

/** A running attempt's credit stops short of a whole task: it has still to write and commit. */
const RUNNING_CAP = 0.99;
/** A running reduce is credited for its fetch only: a third of the task (fetch, merge, reduce). */
const FETCH_SHARE = 1 / 3;

export function stageProgress(
  stage: StageRecord, figures: (attemptId: string) => AttemptFigures | undefined, previous?: StageProgress,
): StageProgress {
  const partitionBytes = reduceInputBytes(stage);
  let mapCredit = 0;
  let mapBytesRead = 0;
  let mapRerunning = 0;
  for (const task of stage.maps) {
    if (task.state === 'done') {
      mapCredit += 1;
      mapBytesRead += task.counters?.[COUNTER.mapInputBytes] ?? 0;
      continue;
    }
    if (task.doneMs !== undefined) mapRerunning++; // committed once, its output lost since
    const input = stage.splits[task.index];
    const splitBytes = input ? inputBytes(input) : 0;
    // A split's last line may end past its end: a running map counts its input's bytes at most.
    const read = Math.min(splitBytes, bestOfRunning(task, figures, (f) => f.inputBytesRead));
    mapBytesRead += read;
    mapCredit += splitBytes > 0 ? Math.min(RUNNING_CAP, read / splitBytes) : 0;
  }
  let reduceCredit = 0;
  let reduceBytesRead = 0;
  for (const task of stage.reduces) {
    if (task.state === 'done') {
      reduceCredit += 1;
      reduceBytesRead += partitionBytes[task.index] ?? 0;
      continue;
    }
    const fetched = bestOfRunning(task, figures, (f) => f.outputsFetched);
    reduceCredit += stage.maps.length > 0 ? FETCH_SHARE * Math.min(1, fetched / stage.maps.length) : 0;
  }
  const current: StageProgress = {
    map: fraction(mapCredit, stage.maps.length),
    reduce: fraction(reduceCredit, stage.reduces.length),
    mapRerunning,
    mapBytesRead,
    mapBytesTotal: stage.splits.reduce((sum, input) => sum + inputBytes(input), 0),
    reduceBytesRead,
    reduceBytesTotal: partitionBytes.reduce((sum, n) => sum + n, 0),
  };
  return previous ? monotone(current, previous) : current;
}

/** The current figures, never below the previous ones but for the re-running count (it is a count, not progress). */
function monotone(current: StageProgress, previous: StageProgress): StageProgress {
  return {
    map: Math.max(current.map, previous.map),
    reduce: Math.max(current.reduce, previous.reduce),
    mapRerunning: current.mapRerunning,
    mapBytesRead: Math.max(current.mapBytesRead, previous.mapBytesRead),
    mapBytesTotal: current.mapBytesTotal,
    reduceBytesRead: Math.max(current.reduceBytesRead, previous.reduceBytesRead),
    reduceBytesTotal: Math.max(current.reduceBytesTotal, previous.reduceBytesTotal),
  };
}

/** Running attempts count at most RUNNING_CAP each, so this is 1 only when every task is in. */
function fraction(credit: number, total: number): number {
  return total === 0 ? 0 : Math.min(1, credit / total);
}

/** The furthest any running attempt of the task has got (a backup copy may be ahead). */
function bestOfRunning(
  task: TaskRecord, figures: (attemptId: string) => AttemptFigures | undefined, pick: (f: AttemptFigures) => number | undefined,
): number {
  let best = 0;
  for (const attemptId of task.running.keys()) {
    const f = figures(attemptId);
    best = Math.max(best, (f && pick(f)) || 0);
  }
  return best;
}

/** Each reducer's input: its partition's bytes summed over the committed map outputs. */
function reduceInputBytes(stage: StageRecord): number[] {
  const bytes = new Array<number>(stage.reduces.length).fill(0);
  for (const map of stage.maps) {
    if (map.state !== 'done') continue;
    map.partitionBytes?.forEach((n, r) => {
      if (r < bytes.length) bytes[r] += n;
    });
  }
  return bytes;
}
