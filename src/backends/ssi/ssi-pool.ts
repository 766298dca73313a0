// The pool `mr run --transport ssi` starts: an etcd member for the cluster's agreed state (unless
// --etcd names a running cluster), then the worker processes, each a member of the cluster while
// it keeps its etcd lease alive. The pool mirrors the members: one whose lease lapses (killed,
// or cut off from etcd) is told to the master as gone, whether or not its process was seen to die.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Pool } from '../../pools/pool.ts';
import type { ProcessPool } from '../../pools/process-pool.ts';
import type { PoolContext } from '../backend.ts';
import { processPool } from '../process-backend.ts';
import { ClusterState, type AgreementCounts } from './cluster-state.ts';
import { startEtcdMember, type EtcdMember } from './etcd-member.ts';
import type { ProcessRecord } from '../../master/process-table.ts';
import type { ListProcessesReply, ListProcessesRequest } from '../../wires/messages.ts';

export class SsiPool implements Pool {
  private member?: EtcdMember;
  private state?: ClusterState;
  private workers?: ProcessPool;
  endpoints?: string[];

  constructor(private readonly context: PoolContext) {}

  /** What keeping the state agreed cost so far (none before start). */
  get counts(): AgreementCounts | undefined {
    return this.state?.counts;
  }

  async start(): Promise<void> {
    const { context } = this;
    if (context.etcd) this.endpoints = context.etcd;
    else {
      this.member = await startEtcdMember(join(context.workRoot, 'etcd'));
      this.endpoints = this.member.endpoints;
    }
    this.state = new ClusterState(this.endpoints, context.masterAddress);
    const state = this.state;
    context.onProcess((record) => state.publish(record));
    await this.state.mirrorMembers((gone) => context.workerLost(gone.workerId, `its etcd lease lapsed (node ${gone.host} pid ${gone.pid} could no longer prove it is alive)`));
    this.workers = processPool(context, 'ssi', ['--etcd', this.endpoints.join(',')]);
    await this.workers.start();
  }

  async stop(graceMs: number): Promise<void> {
    await this.workers?.stop(graceMs);
    await this.state?.close();
    await this.member?.stop();
  }

  /** The workers' (the etcd member goes with mr run's pipe to it, however mr run ends). */
  pids(): number[] {
    return this.workers?.pids() ?? [];
  }
}

/** A worker's membership: its key under the cluster's nodes, held by a lease it keeps alive. */
/** A worker's view of the cluster's process table: its own mirror of the agreed one, filled and watched from its start. */
export function processMirror(endpoints: string[], cluster: string): (req: ListProcessesRequest) => Promise<ListProcessesReply> {
  const state = new ClusterState(endpoints, cluster);
  let mirror: Promise<Map<number, ProcessRecord>> | undefined;
  const follow = (): Promise<Map<number, ProcessRecord>> => {
    mirror ??= state.mirrorProcesses();
    mirror.catch(() => (mirror = undefined)); // etcd not there yet: the next request tries again
    return mirror;
  };
  void follow().catch(() => {});   // kept from the node's start, not from the first question
  return async (req) => {
    const processes = await follow();
    const now = Date.now();
    const live = (s: string) => s === 'running' || s === 'stopped';
    return {
      processes: [...processes.values()].filter((p) => req.all || live(p.state)).sort((a, b) => a.cpid - b.cpid).map((p) => ({
        cpid: p.cpid, node: p.node, jobId: p.jobId, task: p.task, attemptId: p.attemptId, state: p.state,
        cpuMs: 0, rssKib: 0, elapsedMs: (p.endedMs || now) - p.startedMs,
      })),
    };
  };
}

/** Where the agreed namespace says a path lies: a node's own mirror of names/, filled and watched from its start. */
export function nameMirror(endpoints: string[], cluster: string): (path: string) => Promise<number | undefined> {
  const state = new ClusterState(endpoints, cluster);
  let mirror: Promise<Map<string, number>> | undefined;
  const follow = (): Promise<Map<string, number>> => {
    mirror ??= state.mirrorNames();
    mirror.catch(() => (mirror = undefined));
    return mirror;
  };
  void follow().catch(() => {});
  return async (path) => (await follow()).get(path);
}

/** Cluster-wide locks for job code: etcd's own lock recipe, under the cluster's prefix. */
export function etcdLocks(endpoints: string[], cluster: string): (name: string) => Promise<() => Promise<void>> {
  const state = new ClusterState(endpoints, cluster);
  return (name) => state.lock(name);
}

export function etcdMembership(endpoints: string[], cluster: string) {
  return {
    async join(member: { workerId: string; pid: number; host: string }, onLost: (why: string) => void): Promise<() => Promise<void>> {
      const state = new ClusterState(endpoints, cluster);
      const leave = await state.join({ ...member, host: member.host || hostname() }, onLost);
      return async () => {
        await leave();
        await state.close();
      };
    },
  };
}
