// The cluster as operators and the pool see it: the process table (mr ps), stopping or pausing an
// attempt (mr kill), draining a node, the nodes' addresses; and workers lost, silent (the tick) or
// with their process seen dead.
import { isEmpty, merge } from '../core/scheduler-step.ts';
import { attemptLabel } from '../core/task-timeout.ts';
import type * as M from '../wires/messages.ts';
import { attemptFailed, endAttempt, settleAttempts } from './attempt-ledger.ts';
import type { MasterState } from './master-state.ts';
import { carryOut } from './stage-commit.ts';
import { wake } from './task-offers.ts';

/** The pool's process table: every attempt on every node under one cluster-wide id. */
export async function listProcesses(state: MasterState, req: M.ListProcessesRequest): Promise<M.ListProcessesReply> {
  return { processes: state.processTable.list(req.all, state.now(), (id) => state.scheduler.isRunning(id)) };
}

/** Stops an attempt wherever it runs (its worker hears at its next heartbeat); the task runs again. */
export async function killProcess(state: MasterState, req: M.KillProcessRequest): Promise<M.KillProcessReply> {
  const signal = (req.signal || 'TERM').toUpperCase().replace(/^SIG/, '');
  if (!['TERM', 'KILL', 'STOP', 'CONT'].includes(signal)) return { killed: false, error: `unknown signal ${req.signal}: give TERM, KILL, STOP or CONT` };
  const process = state.processTable.attemptOf(req.cpid);
  if (!process) return { killed: false, error: `no process ${req.cpid}` };
  if (!state.scheduler.isRunning(process.attemptId)) return { killed: false, error: `process ${req.cpid} is not running` };
  if (signal === 'STOP' || signal === 'CONT') {
    if (signal === 'STOP') state.stopped.add(process.attemptId);
    else state.stopped.delete(process.attemptId);
    state.processTable.setStopped(process.attemptId, signal === 'STOP');
    return { killed: true, error: '' }; // the worker hears at its next heartbeat
  }
  state.stopped.delete(process.attemptId);
  state.processTable.ended(process.attemptId, 'killed', state.now());
  const error = `killed by mr kill ${req.cpid}`;
  const step = state.scheduler.fail(process.attemptId, error, state.now());
  endAttempt(state, process.attemptId, 'failed', error); // the scheduler counts it as the task's failure
  await carryOut(state, step);
  wake(state);
  return { killed: true, error: '' };
}

/** The node takes no new tasks; its running attempts move to other nodes, not counted as failures. */
export async function drainNode(state: MasterState, req: M.DrainNodeRequest): Promise<M.DrainNodeReply> {
  const workers = state.nodeTable.workersOn(req.node).filter((id) => state.scheduler.workers.get(id)?.alive);
  if (workers.length === 0) return { drained: false, moved: 0, error: `no live node ${req.node}` };
  const step = merge(...workers.map((workerId) => state.scheduler.drain(workerId)));
  await carryOut(state, step); // records the attempts moved
  const moved = step.events.filter((event) => event.type === 'attempt-moved').length;
  state.options.log.info('node drained', { node: req.node, moved });
  wake(state);
  return { drained: true, moved, error: '' };
}

/** Where each live node's worker serves its part of the /cluster namespace. */
export async function resolveNodes(state: MasterState): Promise<M.ResolveNodesReply> {
  const nodes: M.NodeAddress[] = [];
  for (const worker of state.scheduler.workers.values()) {
    const node = state.nodeTable.nodeOf(worker.id);
    const address = state.workerAddresses.get(worker.id);
    if (worker.alive && node !== undefined && address) nodes.push({ node, address });
  }
  return { nodes };
}

/**
 * A worker process on this machine is known to be dead (embedded mode sees it exit). With a
 * cause that is its attempts' own (out of memory; a stall its watchdog ended, naming them), those
 * attempts fail with it, though the worker may have been given up for silent already.
 */
export async function workerProcessDied(state: MasterState, pid: number, death?: { reason: string; attemptIds?: string[] }): Promise<void> {
  const workerId = state.workerPids.get(pid);
  if (workerId === undefined) return;
  state.options.log.warn('worker process died', { workerId, pid, ...(death ? { reason: death.reason } : {}) });
  if (death) {
    for (const attemptId of death.attemptIds ?? state.scheduler.attemptsOn(workerId)) {
      const attempt = state.history.entry(attemptId);
      if (!attempt || attempt.state !== 'running') continue;
      const [kind, index] = attempt.task.split('.')[1].split('-');
      const error = `${attemptLabel(kind, Number(index), attemptId)} ${death.reason}`;
      const step = state.scheduler.fail(attemptId, error, state.now(), true);
      attemptFailed(state, attemptId, error);
      await carryOut(state, step);
    }
  }
  await carryOut(state, state.scheduler.loseWorker(workerId, death ? death.reason : 'its process exited', state.now()));
  settleAttempts(state);
  wake(state);
}

/** A worker known gone though its process was not seen to die (ssi: its etcd lease lapsed): its attempts move elsewhere. */
export async function workerLost(state: MasterState, workerId: string, reason: string): Promise<void> {
  if (!state.scheduler.workers.get(workerId)?.alive) return;
  state.options.log.warn('worker lost', { workerId, reason });
  await carryOut(state, state.scheduler.loseWorker(workerId, reason, state.now()));
  settleAttempts(state);
  wake(state);
}

/**
 * One beat of the master's clock: forgets old replies, expires leases and silent workers. A beat
 * far later than tickMs means this process could not listen meanwhile (a job function of an
 * in-process worker held the event loop, or the process was stopped): no one is blamed for that.
 * Returns when the events it found are carried out.
 */
export function tick(state: MasterState, lastTickMs: number, tickMs: number): Promise<void> {
  for (const memo of Object.values(state.memos)) memo.prune();
  const nowMs = state.now();
  if (nowMs - lastTickMs > tickMs + state.timing.workerTimeoutMs / 2) state.scheduler.creditPause(nowMs - lastTickMs - tickMs);
  const step = state.scheduler.tick(nowMs);
  const handled = isEmpty(step) ? undefined : carryOut(state, step); // records the attempts it failed at once
  settleAttempts(state); // the attempts of workers found dead just now end now, not when next read
  if (handled) return handled.then(() => wake(state));
  wake(state);
  return Promise.resolve();
}
