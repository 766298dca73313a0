// Which task a worker gets next: a pending task of the oldest running job (placed by node on a
// simulated machine), else a backup copy of a straggler. Decides only; the scheduler starts it.
import { homeNode } from './placement.ts';
import type { JobRecord, SchedulerOptions, WorkerRecord } from './scheduler-records.ts';
import { DEFAULT_SPECULATION, phaseTasks, pickBackup, pickPending } from './speculation.ts';
import { assignableTasks, hasAssignable, type StageRecord, type TaskRecord } from './task-table.ts';

export interface TaskChoice {
  job: JobRecord;
  stage: StageRecord;
  task: TaskRecord;
  backup: boolean;               // a speculative copy of a straggler
}

type Jobs = ReadonlyMap<string, JobRecord>;
type Workers = ReadonlyMap<string, WorkerRecord>;

/** liveWorkers: the live workers' ids, asked only when a decision needs them (see WorkerLeases.liveWorkers). */
export function chooseTask(
  jobs: Jobs, workers: Workers, worker: WorkerRecord, options: SchedulerOptions, nowMs: number, liveWorkers: () => readonly string[],
): TaskChoice | undefined {
  return pendingTask(jobs, workers, worker, options, liveWorkers) ?? backupTask(jobs, worker, options, nowMs);
}

function pendingTask(jobs: Jobs, workers: Workers, worker: WorkerRecord, options: SchedulerOptions, live: () => readonly string[]): TaskChoice | undefined {
  for (const job of jobs.values()) {
    if (job.state !== 'running' || job.awaitingStage) continue;
    const stage = job.stages[job.stages.length - 1];
    const task = pickPending(placed(stage, assignableTasks(stage), workers, worker, options.nodes), worker.id, live);
    if (task) return { job, stage, task, backup: false };
  }
  return undefined;
}

function backupTask(jobs: Jobs, worker: WorkerRecord, options: SchedulerOptions, nowMs: number): TaskChoice | undefined {
  // On a simulated machine placement is static, so a straggler gets no backup elsewhere.
  if (options.nodes !== undefined) return undefined;
  for (const job of jobs.values()) {
    if (job.state !== 'running' || job.awaitingStage || !job.speculation) continue;
    const stage = job.stages[job.stages.length - 1];
    if (hasAssignable(stage)) continue;
    const straggler = pickBackup(phaseTasks(stage), worker.id, nowMs, options.speculation ?? DEFAULT_SPECULATION);
    if (straggler) return { job, stage, task: straggler, backup: true };
  }
  return undefined;
}

/**
 * With static placement (nodes), the tasks this worker may take: those whose home is its node,
 * those whose home node has no live worker (so a lost node never stalls a job), and those that
 * already failed (a retry goes where pickPending sees fit, as anywhere else).
 */
function* placed(stage: StageRecord, tasks: Iterable<TaskRecord>, workers: Workers, worker: WorkerRecord, nodes: number | undefined): Generator<TaskRecord> {
  if (nodes === undefined || worker.node === undefined) {
    yield* tasks;
    return;
  }
  const liveNodes = new Set<number>();
  for (const w of workers.values()) if (w.alive && w.node !== undefined) liveNodes.add(w.node);
  for (const task of tasks) {
    const home = homeNode(task.index, task.kind === 'map' ? stage.maps.length : stage.reduces.length, nodes);
    if (home === worker.node || !liveNodes.has(home) || task.failures > 0) yield task;
  }
}
