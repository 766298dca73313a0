// Which task a worker gets: a pending one it has not failed before, or, near the end of a phase,
// a backup attempt of a straggler (the MapReduce paper's backup tasks).
import type { StageRecord, TaskRecord } from './task-table.ts';

export interface SpeculationOptions {
  minBackupAfterMs: number;      // never back up an attempt younger than this
  slowFactor: number;            // ... nor one that has not run this many times the median duration
}

export const DEFAULT_SPECULATION: SpeculationOptions = { minBackupAfterMs: 1000, slowFactor: 1.5 };

/**
 * The first pending task, skipping those that already failed on this worker while some other
 * live worker has not failed them (a retry should run elsewhere when it can).
 */
export function pickPending(pending: Iterable<TaskRecord>, workerId: string, liveWorkers: () => readonly string[]): TaskRecord | undefined {
  for (const task of pending) if (!task.failedOn.has(workerId) || liveWorkers().every((w) => w === workerId || task.failedOn.has(w))) return task;
  return undefined;
}

/**
 * A running task worth a backup attempt on this worker: every task of the phase is assigned,
 * it has a single attempt, on another worker, running far longer than its finished peers, and
 * not already allowed to commit (a backup could not commit; if the committer died, the task
 * runs again once its loss is known). The longest-running such task is chosen.
 */
export function pickBackup(phaseTasks: readonly TaskRecord[], workerId: string, nowMs: number, options: SpeculationOptions): TaskRecord | undefined {
  const durations = phaseTasks.filter((t) => t.durationMs !== undefined).map((t) => t.durationMs as number).sort((a, b) => a - b);
  if (durations.length === 0) return undefined;
  const median = durations[Math.floor(durations.length / 2)];
  const threshold = Math.max(options.minBackupAfterMs, options.slowFactor * median);
  let best: TaskRecord | undefined;
  let bestAge = threshold;
  for (const task of phaseTasks) {
    if (task.state !== 'running' || task.running.size !== 1 || task.committer !== undefined) continue;
    const [attempt] = task.running.values();
    const age = nowMs - attempt.startedMs;
    if (attempt.workerId !== workerId && age >= bestAge) {
      best = task;
      bestAge = age;
    }
  }
  return best;
}

/** The tasks of the stage's current phase (the barrier: reduces only once every map is done). */
export function phaseTasks(stage: StageRecord): TaskRecord[] {
  return stage.mapTally.done === stage.maps.length ? stage.reduces : stage.maps;
}
