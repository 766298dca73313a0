// Handing tasks to workers: a worker's long poll waits here until the scheduler has a task for
// it, and every change that may free work wakes the waiting ones (in the core's order).
import type { Assignment } from '../core/scheduler-records.ts';
import { offerFor, wakeOrder } from '../core/task-offer.ts';
import type * as M from '../wires/messages.ts';
import { taskKey } from './task-key.ts';
import type { MasterState, Waiter } from './master-state.ts';
import { carryOut } from './stage-commit.ts';
import { stageDir } from './stage-output.ts';

/** Answers now if there is something to say, else waits up to waitMs for a task (or a batch of up to maxTasks). */
export function poll(state: MasterState, req: M.TaskRequest): Promise<M.TaskReply> {
  const maxTasks = req.maxTasks || 1;
  const now = offer(state, req.workerId, maxTasks);
  if (now || req.waitMs <= 0) return Promise.resolve(now ?? { retryAfterMs: 200, moreTasks: [] });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      state.waiters = state.waiters.filter((w) => w.timer !== timer);
      resolve({ retryAfterMs: 0, moreTasks: [] });
    }, req.waitMs);
    state.waiters.push({ workerId: req.workerId, maxTasks, resolve, timer });
  });
}

/** A reply for the worker right now (a task or a batch, or shutdown), or undefined to keep it waiting. */
export function offer(state: MasterState, workerId: string, maxTasks = 1): M.TaskReply | undefined {
  if (state.holdingTasks && !state.shuttingDown) return undefined;
  const nowMs = state.now();
  const offered = offerFor(state.scheduler, workerId, state.shuttingDown, nowMs, maxTasks);
  if (!offered) return undefined;
  if (!('tasks' in offered)) return { ...offered, moreTasks: [] };
  void carryOut(state, offered.step, nowMs); // an assignment's step is carried out at once: nothing in it is awaited
  const [first, ...rest] = offered.tasks.map((a) => toTask(state, a));
  return { task: first, moreTasks: rest };
}

function toTask(state: MasterState, a: Assignment): M.Task {
  const specs = state.specs.get(a.jobId) as M.JobSpec[];
  const base = specs[a.stage - 1];
  const spec = {
    ...base,
    inputFiles: [], // a task reads its split, never the job's whole input list (which can be huge)
    outputDir: stageDir(base.outputDir, a.stage, specs.length),
    inputMode: a.stage > 1 ? 'records' : base.inputMode,
  };
  const mapOutputs = (a.mapOutputs ?? []).map((ref, mapTask) => ({
    mapTask, outputId: ref.outputId, workerAddress: state.workerAddresses.get(ref.workerId) ?? '',
    path: `map-out/${ref.outputId}`, // ssi: a plain namespace path: the reducer need not know which node has it
  }));
  // A split without its file's snapshot (journaled before there was one) goes as the proto's "0: not recorded".
  const splits = (a.splits ?? []).map((split) => ({ ...split, fileBytes: split.fileBytes ?? 0, mtimeMs: split.mtimeMs ?? 0 }));
  const resume = a.kind === 'map' ? state.checkpoints.resumeFor(taskKey(a.jobId, a.stage, a.index)) : null;
  return { jobId: a.jobId, stage: a.stage, kind: a.kind, taskIndex: a.index, attemptId: a.attemptId, spec, splits, mapOutputs, resume };
}

/** Hands tasks to waiting workers; called whenever the scheduler's state may have changed. */
export function wake(state: MasterState): void {
  const still: Waiter[] = [];
  for (const waiter of wakeOrder(state.waiters, (workerId) => state.scheduler.runningOn(workerId))) {
    const reply = offer(state, waiter.workerId, waiter.maxTasks);
    if (!reply) {
      still.push(waiter);
      continue;
    }
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }
  state.waiters = still;
}
