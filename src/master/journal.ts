// The master's journal: an append-only file of JSON lines in its work dir, made durable at commit
// points (group commit: one fsync covers every record written before it), replayed when a master
// starts again with the same work dir.
import { closeSync, existsSync, fsync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { JournalCorruptError } from '../errors.ts';
import { CommitWaiters } from './commit-waiters.ts';
import type { Counters } from '../core/counters.ts';
import type { MapInput, Split } from '../core/splits.ts';
import type { MapOutputRef, TaskKind } from '../core/task-table.ts';
import type { JobSpec, PendingUpload } from '../wires/messages.ts';

export type JournalRecord =
  | { t: 'epoch'; epoch: number }
  | { t: 'worker'; workerId: string; address: string }
  | { t: 'job'; jobId: string; stages: JobSpec[] }
  | { t: 'stage-start'; jobId: string; stage: number; splits: MapInput[] | Split[]; reducers: number }   // Split[]: one a map task, as journaled before packing
  | { t: 'task-done'; jobId: string; stage: number; kind: TaskKind; index: number; output?: MapOutputRef; counters: Counters; durationMs: number;
      partitionBytes?: number[]; partitionRecords?: number[];  // map tasks: the output's size per partition
      upload?: PendingUpload }                                 // a reduce writing to object storage: its part, to complete at the commit
  | { t: 'stage-done'; jobId: string; stage: number; files: string[] }
  | { t: 'job-end'; jobId: string; state: 'succeeded' | 'failed' | 'killed'; error?: string };

/** Where the master journals: this file (journal.ts), or etcd for masters that stand in for each other (etcd-journal.ts). */
export interface JournalSink {
  /** Appends a record; with durable, resolves once it is kept (a commit point). */
  append(record: JournalRecord, durable?: boolean): Promise<void>;
  /** Resolves once every record appended so far is kept. */
  sync(): Promise<void>;
  close(): void;
  /** Writes that made records durable (each covers a group). */
  fsyncs: number;
}

export class Journal implements JournalSink {
  private readonly fd: number;
  private readonly commits = new CommitWaiters();   // records written to the file, and those an fsync covered
  private flushing = false;      // an fsync in flight, or one scheduled for the end of this turn
  private closing = false;
  /** fsyncs done: with many commits a second, far fewer than the commits (each covers a group). */
  fsyncs = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  /**
   * Appends a record. With durable, the promise resolves once the record is on disk: a commit
   * point, acknowledged to no one before that. The records of a turn of the event loop (a batch of
   * reports, say) share one fsync, and those written while an fsync runs share the next.
   */
  append(record: JournalRecord, durable = false): Promise<void> {
    if (this.closing) throw new Error(`journal ${this.path} is closed`);
    writeSync(this.fd, JSON.stringify(record) + '\n');
    this.commits.written++;
    return durable ? this.sync() : Promise.resolve();
  }

  /** Resolves once every record written so far is on disk. */
  sync(): Promise<void> {
    return this.commits.sync(() => this.schedule());
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush()); // the rest of this turn's records join the group
  }

  private flush(): void {
    const upTo = this.commits.written;
    fsync(this.fd, (error) => {
      this.fsyncs++;
      this.flushing = false;
      // A failed fsync leaves the file's state unknown: nothing written may be acknowledged again.
      const waiting = this.commits.covered(upTo, error ? new Error(`journal ${this.path} could not be synced: ${error.message}`) : undefined);
      if (this.closing) this.closeNow();
      else if (waiting) this.schedule();
    });
  }

  /** Closes the file, once what was written is on disk. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (!this.flushing) this.closeNow();
  }

  private closeNow(): void {
    if (this.commits.durable < this.commits.written && !this.commits.failed) fsyncSync(this.fd);
    this.commits.settleAll();
    closeSync(this.fd);
  }

  /** The records of an existing journal; a torn last line (a crash mid-write) is ignored. */
  static read(path: string): JournalRecord[] {
    if (!existsSync(path)) return [];
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    const records: JournalRecord[] = [];
    for (const [i, line] of lines.entries()) {
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch (error) {
        if (i < lines.length - 1) throw new JournalCorruptError(`journal ${path} is corrupt at line ${i + 1}: ${(error as Error).message}; move it aside to start the master without its jobs`);
      }
    }
    return records;
  }
}
