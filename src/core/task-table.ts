// The task records of one stage and the transitions of a single task; no I/O, no clock.
import type { MapInput } from './splits.ts';
import { addCounters, type Counters } from './counters.ts';

export type TaskKind = 'map' | 'reduce';
export type TaskState = 'pending' | 'running' | 'done';

/** Where a committed map task's output lives. */
export interface MapOutputRef {
  workerId: string;
  outputId: string;
}

export interface AttemptRecord {
  id: string;
  jobId: string;
  stage: number;
  kind: TaskKind;
  index: number;
  workerId: string;
  startedMs: number;
  leaseUntilMs: number;
  backup: boolean;               // a speculative copy of a straggler
  progressMark: number;          // its progress as last reported, and since when (task-timeout.ts)
  progressMs: number;
}

export interface TaskRecord {
  kind: TaskKind;
  index: number;
  state: TaskState;
  attemptsStarted: number;
  failures: number;
  losses: number;                // attempts lost with their worker: with failures, bounded by maxAttempts
  failedOn: Set<string>;         // workers an attempt of this task failed on
  fetchFailures: number;         // reduce attempts that could not fetch a map output
  durationMs?: number;           // of the attempt that committed
  lastError?: string;
  running: Map<string, AttemptRecord>;
  output?: MapOutputRef;
  counters?: Counters;           // of the committed attempt; gone again if its output is lost
  committer?: string;            // the one attempt allowed to put its output in place
  partitionBytes?: number[];     // map tasks: the committed output's size per partition
  partitionRecords?: number[];   // map tasks: the committed output's records per partition
  node?: number;                 // the node that ran the committed attempt (simulated machines)
  doneMs?: number;
}

export interface StageRecord {
  stage: number;
  splits: MapInput[];             // each map task's input
  maps: TaskRecord[];
  reduces: TaskRecord[];
  startedMs: number;
  mapDoneMs?: number;
  reduceDoneMs?: number;
  failedAttempts: number;
  backupAttempts: number;
}

export function newTask(kind: TaskKind, index: number): TaskRecord {
  return { kind, index, state: 'pending', attemptsStarted: 0, failures: 0, losses: 0, failedOn: new Set(), fetchFailures: 0, running: new Map() };
}

export function newStage(stage: number, splits: MapInput[], reducers: number, nowMs: number): StageRecord {
  return {
    stage,
    splits,
    maps: splits.map((_, i) => newTask('map', i)),
    reduces: Array.from({ length: reducers }, (_, i) => newTask('reduce', i)),
    startedMs: nowMs,
    failedAttempts: 0,
    backupAttempts: 0,
  };
}

/** The stage's counters: the sum over its committed tasks, so a task run again is not counted twice. */
export function stageCounters(stage: StageRecord): Counters {
  const sum: Counters = {};
  for (const task of [...stage.maps, ...stage.reduces]) if (task.state === 'done' && task.counters) addCounters(sum, task.counters);
  return sum;
}

export function countDone(tasks: readonly TaskRecord[]): number {
  let done = 0;
  for (const task of tasks) if (task.state === 'done') done++;
  return done;
}

export function allDone(tasks: readonly TaskRecord[]): boolean {
  return tasks.every((task) => task.state === 'done');
}

/** The barrier: reduce tasks become assignable only once every map task has committed. */
export function phaseOf(stage: StageRecord): 'map' | 'reduce' | 'commit' {
  if (!allDone(stage.maps)) return 'map';
  if (!allDone(stage.reduces)) return 'reduce';
  return 'commit';
}

/** The tasks a worker may be given now, in the order they should be handed out. */
export function assignableTasks(stage: StageRecord): TaskRecord[] {
  const phase = phaseOf(stage);
  if (phase === 'commit') return [];
  const tasks = phase === 'map' ? stage.maps : stage.reduces;
  return tasks.filter((task) => task.state === 'pending');
}

/** Committed map outputs that are gone (their worker died, reducers cannot fetch them): those maps run again. */
export function loseMapOutputs(stage: StageRecord, lost: (map: TaskRecord) => boolean): void {
  for (const map of stage.maps) {
    if (map.state !== 'done' || !lost(map)) continue;
    map.state = 'pending';
    map.output = undefined;
    stage.mapDoneMs = undefined;
  }
}

/** Drops an attempt; the task goes back to pending when no other attempt of it runs. */
export function dropAttempt(task: TaskRecord, attemptId: string): void {
  task.running.delete(attemptId);
  if (task.committer === attemptId) task.committer = undefined;
  if (task.state === 'running' && task.running.size === 0) task.state = 'pending';
}
