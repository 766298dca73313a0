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

/**
 * What a phase's tasks add up to, kept as they change state (setTaskState) so that no event
 * scans every task of a stage: ten thousand tiny tasks made each hand-out and report O(tasks).
 */
export interface PhaseTally {
  done: number;
  firstPending: number;          // no task before this index is pending
  timedTasks: number;            // committed attempts whose run time (their time.mapMs) is known, and its sum:
  timedMs: number;               // how long a task takes, to size batches by (task-batch.ts)
}

export interface StageRecord {
  stage: number;
  splits: MapInput[];             // each map task's input
  maps: TaskRecord[];
  reduces: TaskRecord[];
  mapTally: PhaseTally;
  reduceTally: PhaseTally;
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
    mapTally: { done: 0, firstPending: 0, timedTasks: 0, timedMs: 0 },
    reduceTally: { done: 0, firstPending: 0, timedTasks: 0, timedMs: 0 },
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

function tallyOf(stage: StageRecord, kind: TaskKind): PhaseTally {
  return kind === 'map' ? stage.mapTally : stage.reduceTally;
}

/** The one way a task of a stage changes state: the stage's tallies follow. */
export function setTaskState(stage: StageRecord, task: TaskRecord, next: TaskState): void {
  if (task.state === next) return;
  const tally = tallyOf(stage, task.kind);
  if (task.state === 'done') tally.done--;
  if (next === 'done') tally.done++;
  if (next === 'pending') tally.firstPending = Math.min(tally.firstPending, task.index);
  task.state = next;
}

/** The phase's committed tasks. */
export function countDone(stage: StageRecord, kind: TaskKind): number {
  return tallyOf(stage, kind).done;
}

/** The barrier: reduce tasks become assignable only once every map task has committed. */
export function phaseOf(stage: StageRecord): 'map' | 'reduce' | 'commit' {
  if (stage.mapTally.done < stage.maps.length) return 'map';
  if (stage.reduceTally.done < stage.reduces.length) return 'reduce';
  return 'commit';
}

/** The tasks a worker may be given now, in the order they should be handed out (lazily: a worker takes the first that suits it). */
export function* assignableTasks(stage: StageRecord): Generator<TaskRecord> {
  const phase = phaseOf(stage);
  if (phase === 'commit') return;
  const tasks = phase === 'map' ? stage.maps : stage.reduces;
  const tally = tallyOf(stage, phase);
  while (tally.firstPending < tasks.length && tasks[tally.firstPending].state !== 'pending') tally.firstPending++;
  for (let i = tally.firstPending; i < tasks.length; i++) if (tasks[i].state === 'pending') yield tasks[i];
}

/** Whether any task of the stage's current phase waits for a worker. */
export function hasAssignable(stage: StageRecord): boolean {
  return !assignableTasks(stage).next().done;
}

/** Committed map outputs that are gone (their worker died, reducers cannot fetch them): those maps run again. */
export function loseMapOutputs(stage: StageRecord, lost: (map: TaskRecord) => boolean): void {
  if (stage.mapTally.done === 0) return;
  for (const map of stage.maps) {
    if (map.state !== 'done' || !lost(map)) continue;
    setTaskState(stage, map, 'pending');
    map.output = undefined;
    stage.mapDoneMs = undefined;
  }
}

/** Drops an attempt; the task goes back to pending when no other attempt of it runs. */
export function dropAttempt(stage: StageRecord, task: TaskRecord, attemptId: string): void {
  task.running.delete(attemptId);
  if (task.committer === attemptId) task.committer = undefined;
  if (task.state === 'running' && task.running.size === 0) setTaskState(stage, task, 'pending');
}
