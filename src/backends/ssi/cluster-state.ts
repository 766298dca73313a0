// The ssi cluster's agreed state, kept in etcd (a real consensus system: the nodes never agree
// among themselves). Today: membership. A node is a member while it holds its key under
// <prefix>/nodes/, bound to an etcd lease it keeps alive; a node whose lease lapses (it died, or
// can no longer reach etcd to prove it lives) is gone for every mirror at once. Each process that
// needs the members keeps a mirror of them, filled once and then kept up by a watch.
import { Etcd3, type Lease } from 'etcd3';
import { TransportUnavailableError } from '../../errors.ts';

/** What a member says of itself. */
export interface MemberInfo {
  workerId: string;
  pid: number;
  host: string;
  /** Set just before it leaves on purpose: its key's deletion is then no death. */
  leaving?: boolean;
}

/**
 * What agreement cost, as one mirror sees it: the writes to the cluster's state (each one a round
 * of consensus among the etcd members), the change notifications this mirror was sent (every
 * mirror gets one per write: they grow with the nodes), and the members whose lease lapsed.
 */
export interface AgreementCounts {
  writes: number;
  watchEvents: number;
  leaseLapses: number;
}

/** Seconds a member's lease lives without a keep-alive (etcd3 renews it every third of that). */
export const MEMBER_TTL_SEC = 3;

export class ClusterState {
  readonly counts: AgreementCounts = { writes: 0, watchEvents: 0, leaseLapses: 0 };
  private readonly client: Etcd3;

  /** cluster: a name of its own within the etcd cluster (runs may share one etcd). */
  constructor(endpoints: string[], cluster: string) {
    this.client = new Etcd3({ hosts: endpoints, dialTimeout: 3000 });
    this.prefix = `/mr/${encodeURIComponent(cluster)}`;
  }

  readonly prefix: string;

  private get nodes(): string {
    return `${this.prefix}/nodes/`;
  }

  /**
   * Joins as member `info.workerId`, kept alive by a lease. onLost: the lease lapsed (the member
   * could not reach etcd in time): it is no longer a member and must stop working. Returns leave().
   */
  async join(info: MemberInfo, onLost: (why: string) => void): Promise<() => Promise<void>> {
    const lease: Lease = this.client.lease(MEMBER_TTL_SEC, { autoKeepAlive: true });
    let leaving = false;
    lease.on('lost', (error) => {
      if (!leaving) onLost(`its etcd lease lapsed: ${error.message}`);
    });
    const key = this.nodes + info.workerId;
    try {
      await lease.put(key).value(JSON.stringify(info));
    } catch (error) {
      lease.release();
      throw new TransportUnavailableError(`could not join the ssi cluster in etcd: ${(error as Error).message}`);
    }
    this.counts.writes++;
    return async () => {
      leaving = true;
      try {
        await lease.put(key).value(JSON.stringify({ ...info, leaving: true }));
        await lease.revoke();
        this.counts.writes += 2;
      } catch {
        lease.release(); // etcd gone: the lease lapses by itself
      }
    };
  }

  /**
   * The members now, kept up to date by a watch from the revision they were read at. onGone: a
   * member whose key went without its saying it was leaving (its lease lapsed).
   */
  async mirrorMembers(onGone: (member: MemberInfo) => void): Promise<Map<string, MemberInfo>> {
    const members = new Map<string, MemberInfo>();
    const read = await this.client.getAll().prefix(this.nodes).exec();
    for (const kv of read.kvs) members.set(kv.key.toString().slice(this.nodes.length), JSON.parse(kv.value.toString()) as MemberInfo);
    const watcher = await this.client.watch().prefix(this.nodes).startRevision(String(Number(read.header.revision) + 1)).create();
    watcher.on('put', (kv) => {
      this.counts.watchEvents++;
      this.counts.writes++;
      members.set(kv.key.toString().slice(this.nodes.length), JSON.parse(kv.value.toString()) as MemberInfo);
    });
    watcher.on('delete', (kv) => {
      this.counts.watchEvents++;
      this.counts.writes++;
      const id = kv.key.toString().slice(this.nodes.length);
      const member = members.get(id);
      members.delete(id);
      if (member && !member.leaving) {
        this.counts.leaseLapses++;
        onGone(member);
      }
    });
    watcher.on('error', () => {}); // the client reconnects by itself
    this.watchers.push(watcher);
    return members;
  }

  private readonly watchers: { cancel(): Promise<void> }[] = [];

  async close(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => {})));
    this.client.close();
  }
}
