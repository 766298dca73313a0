// The master's journal: an append-only file of JSON lines in its work dir, fsync'd at commit
// points, replayed when a master starts again with the same work dir.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { JournalCorruptError } from '../errors.ts';
import type { Counters } from '../core/counters.ts';
import type { MapInput, Split } from '../core/splits.ts';
import type { MapOutputRef, TaskKind } from '../core/task-table.ts';
import type { JobSpec } from '../wires/messages.ts';

export type JournalRecord =
  | { t: 'epoch'; epoch: number }
  | { t: 'worker'; workerId: string; address: string }
  | { t: 'job'; jobId: string; stages: JobSpec[] }
  | { t: 'stage-start'; jobId: string; stage: number; splits: MapInput[] | Split[]; reducers: number }   // Split[]: one a map task, as journaled before packing
  | { t: 'task-done'; jobId: string; stage: number; kind: TaskKind; index: number; output?: MapOutputRef; counters: Counters; durationMs: number;
      partitionBytes?: number[]; partitionRecords?: number[] } // map tasks: the output's size per partition
  | { t: 'stage-done'; jobId: string; stage: number; files: string[] }
  | { t: 'job-end'; jobId: string; state: 'succeeded' | 'failed' | 'killed'; error?: string };

export class Journal {
  private readonly fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  /** Appends a record; with sync, it is on disk before this returns (a commit point). */
  append(record: JournalRecord, sync = false): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
    if (sync) fsyncSync(this.fd);
  }

  close(): void {
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
