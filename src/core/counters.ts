// Counters: named integer sums, per attempt and per stage (built-in ones and the job's own).
export type Counters = Record<string, number>;

export function addCounters(into: Counters, from: Readonly<Counters>): Counters {
  for (const [name, n] of Object.entries(from)) into[name] = (into[name] ?? 0) + n;
  return into;
}

export const COUNTER = {
  mapInputBytes: 'map.inputBytes',
  mapInputRecords: 'map.inputRecords',
  mapOutputRecords: 'map.outputRecords',
  spills: 'map.spills',
  checkpoints: 'map.checkpoints',     // checkpoints written by the attempt and those it resumed from
  resumedBytes: 'map.resumedBytes',   // input bytes a resumed attempt did not read again (summed over its resumes)
  combineInputRecords: 'combine.inputRecords',
  combineOutputRecords: 'combine.outputRecords',
  shuffleBytes: 'shuffle.bytes',
  reduceInputGroups: 'reduce.inputGroups',
  reduceOutputRecords: 'reduce.outputRecords',
  reduceOutputBytes: 'reduce.outputBytes',
  // Milliseconds, summed over a stage's successful attempts (task time, not wall time).
  mapMs: 'time.mapMs',           // a map attempt from start to published output
  shuffleMs: 'time.shuffleMs',   // a reducer getting its partition of every map output
  reduceMs: 'time.reduceMs',     // merging, calling reduce and writing the temporary part file
  commitMs: 'time.commitMs',     // asking the master to commit, then the rename
} as const;
