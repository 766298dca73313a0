// The ssi cluster's agreed state, kept in etcd (a real consensus system: the nodes never agree
// among themselves), under /mr/<cluster>/:
// - nodes/<worker id>: membership. A node is a member while it holds its key, bound to an etcd
//   lease it keeps alive; a node whose lease lapses (it died, or can no longer reach etcd to
//   prove it lives) is gone for every mirror at once.
// - procs/<cpid>: the process table, written by the master as processes start and change state.
// - names/<path>: the namespace: which node holds the file or directory <path> of the plain
//   namespace (map-out/<attempt>: the map output of a committed attempt), written with the
//   process that made it.
// Each process that needs a part keeps a mirror of it, filled once from one revision and then
// kept up by a watch from the next: every mirror sees every write, in order.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Etcd3, Watcher } from 'etcd3';
import { holdMembership, type Membership } from './member-thread.ts';
import { untilServing } from './etcd-member.ts';
import { TransportUnavailableError } from '../../errors.ts';
import type { ProcessRecord } from '../../master/process-table.ts';

/** Writes of the process table wait this long to go in one transaction (a round of consensus each). */
const PUBLISH_EVERY_MS = 20;
/** etcd takes at most 128 operations in one transaction by default. */
const MAX_TXN_OPS = 128;

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

/**
 * The etcd3 client library, loaded when the cluster state is first used: every process of every
 * backend registers the ssi backend, and only ssi's should pay for loading etcd3 and its gRPC stack.
 */
function etcd3(): typeof import('etcd3') {
  return (loaded ??= createRequire(import.meta.url)('etcd3') as typeof import('etcd3'));
}
let loaded: typeof import('etcd3') | undefined;

/** How long a node started beside its etcd member waits for it to serve before it joins. */
const JOIN_WAIT_MS = 15_000;

/** Seconds a member's lease lives without a keep-alive (etcd3 renews it every third of that). */
export const MEMBER_TTL_SEC = 3;

export class ClusterState {
  readonly counts: AgreementCounts = { writes: 0, watchEvents: 0, leaseLapses: 0 };
  /** The node's membership lease, once it joined: its locks are held under it. */
  private memberLease?: Promise<string>;
  private etcd?: Etcd3;

  /** cluster: a name of its own within the etcd cluster (runs may share one etcd). */
  constructor(private readonly endpoints: string[], cluster: string) {
    this.prefix = `/mr/${encodeURIComponent(cluster)}`;
  }

  /** The client, made at its first use: joining needs none (its thread has its own), and loading etcd3 takes a start-up 100 ms. */
  private get client(): Etcd3 {
    return (this.etcd ??= new (etcd3().Etcd3)({ hosts: this.endpoints, dialTimeout: 3000 }));
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
    const key = this.nodes + info.workerId;
    const joining = holdMembership(this.endpoints, key, JSON.stringify(info), MEMBER_TTL_SEC, onLost, untilServing(this.endpoints, JOIN_WAIT_MS));
    this.memberLease = joining.then((m) => m.leaseId);
    this.memberLease.catch(() => {});
    let membership: Membership;
    try {
      membership = await joining;
    } catch (error) {
      throw new TransportUnavailableError(`could not join the ssi cluster in etcd: ${(error as Error).message}`);
    }
    this.counts.writes++;
    return async () => {
      await membership.leave(JSON.stringify({ ...info, leaving: true }));
      this.counts.writes += 2;
    };
  }

  /**
   * The members now, kept up to date by a watch from the revision they were read at. onGone: a
   * member whose key went without its saying it was leaving (its lease lapsed), and why it is gone.
   */
  async mirrorMembers(onGone: (member: MemberInfo, why: string) => void): Promise<Map<string, MemberInfo>> {
    return this.mirror(this.nodes, (value) => JSON.parse(value) as MemberInfo, (member) => {
      if (member.leaving) return;
      this.counts.leaseLapses++;
      onGone(member, `its etcd lease lapsed (node ${member.host} pid ${member.pid} could no longer prove it is alive)`);
    });
  }

  /**
   * The keys under prefix (without it) and their values, read at one revision and kept up by a
   * watch from the next: every change reaches the mirror, in order. onDelete: an entry that went.
   * Each event is a write to the agreed state, and a change notification to this mirror.
   */
  private async mirror<V>(prefix: string, parse: (value: string) => V, onDelete?: (old: V) => void): Promise<Map<string, V>> {
    const entries = new Map<string, V>();
    const read = await this.client.getAll().prefix(prefix).exec();
    for (const kv of read.kvs) entries.set(kv.key.toString().slice(prefix.length), parse(kv.value.toString()));
    const watcher = await this.client.watch().prefix(prefix).startRevision(String(Number(read.header.revision) + 1)).create();
    watcher.on('put', (kv) => {
      this.counts.watchEvents++;
      this.counts.writes++;
      entries.set(kv.key.toString().slice(prefix.length), parse(kv.value.toString()));
    });
    watcher.on('delete', (kv) => {
      this.counts.watchEvents++;
      this.counts.writes++;
      const key = kv.key.toString().slice(prefix.length);
      const old = entries.get(key);
      entries.delete(key);
      if (old !== undefined) onDelete?.(old);
    });
    watcher.on('error', () => {}); // the client reconnects by itself
    this.watchers.push(watcher);
    return entries;
  }

  private readonly watchers: { cancel(): Promise<void> }[] = [];
  private readonly unpublished = new Map<string, string>();   // key -> value, the latest of each
  private publishing?: Promise<void>;

  private get procs(): string {
    return `${this.prefix}/procs/`;
  }

  /** A process started or changed state: written with others of the next few ms in one transaction (the latest state of each wins). */
  publish(record: ProcessRecord): void {
    this.unpublished.set(this.procs + String(record.cpid), JSON.stringify(record));
    // A map that is done has its output on its node: the namespace says so to every mirror.
    if (record.state === 'done' && /\.map-\d+$/.test(record.task)) this.unpublished.set(`${this.names}map-out/${record.attemptId}`, String(record.node));
    this.publishing ??= new Promise<void>((resolve) => setTimeout(resolve, PUBLISH_EVERY_MS).unref()).then(() => this.flush());
  }

  private get names(): string {
    return `${this.prefix}/names/`;
  }

  /** The namespace as agreed: path -> the node that holds it, kept up by a watch. */
  mirrorNames(): Promise<Map<string, number>> {
    return this.mirror(this.names, Number);
  }

  /** Writes what waits now; resolves once it is in etcd (or could not be: the table is a view, the master's own stays right). */
  async flush(): Promise<void> {
    this.publishing = undefined;
    const entries = [...this.unpublished];
    this.unpublished.clear();
    for (let i = 0; i < entries.length; i += MAX_TXN_OPS) {
      // etcd3 builds a transaction from a comparison: this one always holds, so it is a batch of puts, one round of consensus.
      const txn = this.client.if(this.procs, 'Create', '>', -1);
      const batch = entries.slice(i, i + MAX_TXN_OPS);
      try {
        await txn.then(...batch.map(([key, value]) => this.client.put(key).value(value))).commit();
        this.counts.writes += batch.length;
      } catch {
        // etcd unreachable: the next change of these processes writes them again
      }
    }
  }

  /**
   * Takes the named lock, waiting while another holds it; resolves to its release. etcd3's lock
   * is a key created under a lease only if it does not exist (a try-lock): when it is held, this
   * watches the key and tries again once it is deleted (released, or its holder's lease lapsed:
   * a holder that dies loses the lock within MEMBER_TTL_SEC). Not fair: who tries first after a
   * release gets it.
   */
  async lock(name: string): Promise<() => Promise<void>> {
    const key = `${this.prefix}/locks/${encodeURIComponent(name)}`;
    const lease = await this.memberLease;
    for (;;) {
      const released = this.deletion(key);
      const taken = await (lease ? this.tryLock(key, lease) : this.tryOwnLease(key)).catch((error: unknown) => {
        throw new TransportUnavailableError(`could not take the lock ${name} in etcd: ${(error as Error).message}`);
      });
      if (taken) {
        this.counts.writes++;
        void released.then((w) => w.cancel()).catch(() => {});
        return taken;
      }
      const watcher = await released;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);   // a deletion between the try and the watch is not missed for long
        watcher.once('delete', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await watcher.cancel().catch(() => {});
    }
  }

  /**
   * A member's lock: the key, created only if absent, under the node's membership lease (kept
   * alive by its own thread, whatever the event loop does): the lock goes when the node does.
   * Its release deletes the key if it is still this holder's.
   */
  private async tryLock(key: string, lease: string): Promise<(() => Promise<void>) | undefined> {
    const owner = randomUUID();
    const result = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(owner).lease(lease)).commit();
    if (!result.succeeded) return undefined;
    return async () => {
      await this.client.if(key, 'Value', '==', owner).then(this.client.delete().key(key)).commit().catch(() => undefined);
    };
  }

  /** A lock taken by a process that is no member (a tool, a test): etcd3's own, under a lease of its own. */
  private async tryOwnLease(key: string): Promise<(() => Promise<void>) | undefined> {
    const lock = this.client.lock(key).ttl(MEMBER_TTL_SEC);
    try {
      await lock.acquire();
    } catch (error) {
      if (error instanceof etcd3().EtcdLockFailedError) return undefined;
      throw error;
    }
    return async () => {
      await lock.release().catch(() => undefined);
    };
  }

  /** A watch of key, started now: before the try, so that a release right after it is seen. */
  private deletion(key: string): Promise<Watcher> {
    const watcher = this.client.watch().key(key).create();
    watcher.catch(() => {});
    return watcher;
  }

  /** The process table as agreed now, read once (a restarted master's start). */
  async readProcesses(): Promise<ProcessRecord[]> {
    const read = await this.client.getAll().prefix(this.procs).strings();
    return Object.values(read).map((value) => JSON.parse(value) as ProcessRecord);
  }

  /** The process table as agreed (by cpid), kept up by a watch. */
  mirrorProcesses(): Promise<Map<string, ProcessRecord>> {
    return this.mirror(this.procs, (value) => JSON.parse(value) as ProcessRecord);
  }

  async close(): Promise<void> {
    await this.publishing;
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => {})));
    this.etcd?.close();
  }
}
