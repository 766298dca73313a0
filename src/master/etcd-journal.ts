// The journal of masters that stand in for each other (mr master --ha): the same records as the
// file journal, kept in etcd under /mr-ha/<name>/journal/<seq>, so that whichever master is
// elected next replays them. Every write is a transaction that holds only while this master's
// campaign key still exists: a leader whose lease lapsed (cut off, frozen, replaced) writes
// nothing more, and stops (fencing). The records of a turn of the event loop go in one
// transaction, as the file journal's share one fsync.
import { createRequire } from 'node:module';
import type { Etcd3 } from 'etcd3';
import type { JournalRecord, JournalSink } from './journal.ts';
import { CommitWaiters } from './commit-waiters.ts';

/** etcd takes at most 128 operations in one transaction by default, and requests of 1.5 MiB. */
const MAX_TXN_OPS = 120;
const MAX_TXN_BYTES = 1 << 20;

/** Keys sort as the records were written. */
const SEQ_DIGITS = 12;

export function haPrefix(name: string): string {
  return `/mr-ha/${encodeURIComponent(name)}/`;
}

function etcd3(): typeof import('etcd3') {
  return createRequire(import.meta.url)('etcd3') as typeof import('etcd3');
}

export function etcdClient(endpoints: string[]): Etcd3 {
  return new (etcd3().Etcd3)({ hosts: endpoints, dialTimeout: 3000 });
}

/** A journal record too large for one etcd request. */
export class RecordTooLargeError extends Error {}

export class EtcdJournal implements JournalSink {
  private readonly pending: [number, string][] = [];
  private readonly commits: CommitWaiters;   // records appended (given a seq), and those in etcd
  private flushing = false;
  fsyncs = 0;

  /**
   * next: the seq of the first record this master writes (after those it replayed). fenceKey: its
   * campaign key; onFenced: a write found it gone (this master is no longer the leader).
   */
  constructor(private readonly client: Etcd3, private readonly name: string, next: number, private readonly fenceKey: string, private readonly onFenced: (why: string) => void) {
    this.commits = new CommitWaiters(next - 1);
  }

  /** The journal's records, in order, and the seq the next one takes. */
  static async read(client: Etcd3, name: string): Promise<{ records: JournalRecord[]; next: number }> {
    const prefix = `${haPrefix(name)}journal/`;
    const kvs = await client.getAll().prefix(prefix).strings();
    const keys = Object.keys(kvs).sort();   // zero-padded: in the order written
    return { records: keys.map((key) => JSON.parse(kvs[key]) as JournalRecord), next: keys.length === 0 ? 1 : Number(keys[keys.length - 1].slice(prefix.length)) + 1 };
  }

  append(record: JournalRecord, durable = false): Promise<void> {
    if (this.commits.failed) return Promise.reject(this.commits.failed);
    const value = JSON.stringify(record);
    if (value.length > MAX_TXN_BYTES) {
      return Promise.reject(new RecordTooLargeError(`a ${record.t} record of ${value.length} bytes is more than etcd takes in one request: mr master --ha journals at most ${MAX_TXN_BYTES} bytes a record (fewer input files a job)`));
    }
    this.pending.push([++this.commits.written, value]);
    this.schedule();
    return durable ? this.sync() : Promise.resolve();
  }

  sync(): Promise<void> {
    return this.commits.sync(() => this.schedule());
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const prefix = `${haPrefix(this.name)}journal/`;
    while (this.pending.length > 0 && !this.commits.failed) {
      let bytes = 0;
      let count = 0;
      while (count < this.pending.length && count < MAX_TXN_OPS && (count === 0 || bytes + this.pending[count][1].length <= MAX_TXN_BYTES)) bytes += this.pending[count++][1].length;
      const batch = this.pending.slice(0, count);
      try {
        const result = await this.client.if(this.fenceKey, 'Create', '>', 0)
          .then(...batch.map(([seq, value]) => this.client.put(prefix + String(seq).padStart(SEQ_DIGITS, '0')).value(value)))
          .commit();
        this.fsyncs++;
        if (!result.succeeded) this.fail(new Error('this master is no longer the leader (its campaign key is gone): it stops'));
        else {
          this.pending.splice(0, count);
          this.commits.covered(batch[batch.length - 1][0]);
        }
      } catch (error) {
        // etcd unreachable: nothing written may be acknowledged; a master that cannot journal cannot lead.
        this.fail(new Error(`could not write the journal to etcd: ${(error as Error).message}`));
      }
    }
    this.flushing = false;
    if (this.pending.length > 0 && !this.commits.failed) this.schedule();
  }

  private fail(error: Error): void {
    this.commits.covered(0, error);
    this.onFenced(error.message);
  }

  close(): void {
    // What is pending goes with the next flush, if this master still leads; a standby replays the rest.
  }
}
