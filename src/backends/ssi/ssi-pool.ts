// The pool `mr run --transport ssi` starts: an etcd member for the cluster's agreed state (unless
// --etcd names a running cluster), then the worker processes, each a member of the cluster while
// it keeps its etcd lease alive. The pool mirrors the members: one whose lease lapses (killed,
// or cut off from etcd) is told to the master as gone, whether or not its process was seen to die.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Pool } from '../../pools/pool.ts';
import type { ProcessPool } from '../../pools/process-pool.ts';
import type { PoolContext, WorkerParts } from '../backend.ts';
import { processPool } from '../process-backend.ts';
import { ClusterState, type AgreementCounts } from './cluster-state.ts';
import { launchEtcdMember, type EtcdMember } from './etcd-member.ts';
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
    let serving = Promise.resolve();
    if (context.etcd) this.endpoints = context.etcd;
    else {
      const member = await launchEtcdMember(join(context.workRoot, 'etcd'));
      this.member = member;
      this.endpoints = member.endpoints;
      serving = member.ready;
    }
    // The workers start beside the etcd member (each joins the cluster once etcd serves, and only
    // then takes work): its start-up is no longer theirs to wait for too.
    this.workers = processPool(context, 'ssi', ['--etcd', this.endpoints.join(',')]);
    await this.workers.start();
    await serving;
    // From here on nothing is awaited until the table is published: no worker has joined before.
    this.state = new ClusterState(this.endpoints, context.masterAddress);
    const state = this.state;
    context.onProcess((record) => state.publish(record));
    await this.state.mirrorMembers((gone, why) => context.workerLost(gone.workerId, why));
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

/**
 * Follows a mirror from the node's start (once what starts it is done: the node's join goes
 * first); a failed start (etcd not there yet) is tried again at the next use.
 */
function following<T>(start: () => Promise<T>): () => Promise<T> {
  let mirror: Promise<T> | undefined;
  const follow = (): Promise<T> => {
    mirror ??= start();
    mirror.catch(() => (mirror = undefined));
    return mirror;
  };
  setImmediate(() => void follow().catch(() => {}));   // kept from the node's start, not from the first question
  return follow;
}

/** A name lookup waits this long at most for the mirror to be filled; then the nodes are asked. */
const NAME_WAIT_MS = 1000;

/**
 * What an ssi worker daemon holds of the agreed state, on one etcd client: its membership (a
 * lease its own thread keeps alive), the locks its tasks take (held under that lease), and its
 * mirrors of the process table and of the namespace.
 */
export function workerAgreement(endpoints: string[], cluster: string): Required<Pick<WorkerParts, 'membership' | 'processes' | 'locks'>> & {
  holderOf: (path: string) => Promise<number | undefined>;
  counts: AgreementCounts;
} {
  const state = new ClusterState(endpoints, cluster);
  const processes = following(() => state.mirrorProcesses());
  const names = following(() => state.mirrorNames());
  return {
    counts: state.counts,
    membership: {
      async join(member, onLost) {
        const leave = await state.join({ ...member, host: member.host || hostname() }, onLost);
        return async () => {
          await leave();
          await state.close();
        };
      },
    },
    locks: (name) => state.lock(name),
    async processes(req: ListProcessesRequest): Promise<ListProcessesReply> {
      const table = await processes();
      const now = Date.now();
      const live = (s: string) => s === 'running' || s === 'stopped';
      return {
        processes: [...table.values()].filter((p) => req.all || live(p.state)).sort((a, b) => a.cpid - b.cpid).map((p) => ({
          cpid: p.cpid, node: p.node, jobId: p.jobId, task: p.task, attemptId: p.attemptId, state: p.state,
          cpuMs: 0, rssKib: 0, elapsedMs: (p.endedMs || now) - p.startedMs, checkpointBytes: p.checkpoint?.bytesDone ?? 0,
        })),
      };
    },
    async holderOf(path) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), NAME_WAIT_MS);
      });
      const found = await Promise.race([names().then((m) => m.get(path)), late]).catch(() => undefined);
      clearTimeout(timer);
      return found;
    },
  };
}
