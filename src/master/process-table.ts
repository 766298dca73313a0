// One process table for the whole pool: every attempt the master hands out gets a cluster-wide
// id (cpid), whatever node runs it, and its CPU time and memory as its worker reports them, so
// `mr ps` shows the pool as one machine. A worker runs its attempts in one process, so an
// attempt's CPU time is the process's CPU time since the attempt started (exact with one slot,
// shared between attempts with more).
import type { Assignment } from '../core/scheduler-records.ts';
import type { Checkpoint, ProcessEntry, ProcessStats } from '../wires/messages.ts';
import { taskName } from './attempt-history.ts';

interface Row extends ProcessEntry {
  workerId: string;
  checkpoint?: ProcessCheckpoint;
  startedMs: number;
  endedMs: number;
  cpuAtStartMs?: number;
}

export type ProcessState = 'running' | 'stopped' | 'done' | 'failed' | 'killed' | 'moved';

/** A process as the cluster agrees on it (ssi keeps these in etcd): where it runs, its state, its times. CPU and memory are samples, not agreed. */
export type ProcessRecord = Pick<ProcessEntry, 'cpid' | 'node' | 'jobId' | 'task' | 'attemptId' | 'state'> & {
  workerId: string;
  startedMs: number;
  endedMs: number;
  /** A map's latest checkpoint: where its input stands, and the node holding its runs. */
  checkpoint?: ProcessCheckpoint;
};

export type ProcessCheckpoint = Pick<Checkpoint, 'seq' | 'split' | 'offset' | 'spills' | 'bytesDone' | 'node' | 'clusterDir'>;

const FIRST_CPID = 1000;

const isLive = (state: string): boolean => state === 'running' || state === 'stopped';

export class ProcessTable {
  private readonly rows = new Map<string, Row>();       // by attempt id
  private readonly byCpid = new Map<number, Row>();
  private readonly lastStats = new Map<string, ProcessStats>();
  private nextCpid = FIRST_CPID;

  /** changed: told of every process started and every change of state (ssi publishes them to its agreed state). */
  constructor(private readonly changed?: (record: ProcessRecord) => void) {}

  private tell(row: Row): void {
    if (!this.changed) return;
    const { cpid, node, jobId, task, attemptId, state, workerId, startedMs, endedMs, checkpoint } = row;
    this.changed({ cpid, node, jobId, task, attemptId, state, workerId, startedMs, endedMs, ...(checkpoint ? { checkpoint } : {}) });
  }

  started(a: Assignment, workerId: string, node: number, nowMs: number): number {
    const cpid = this.nextCpid++;
    const row: Row = {
      cpid, node, jobId: a.jobId, task: taskName(a.stage, a.kind, a.index), attemptId: a.attemptId, state: 'running',
      cpuMs: 0, rssKib: this.lastStats.get(workerId)?.maxRssKib ?? 0, elapsedMs: 0, checkpointBytes: 0,
      workerId, startedMs: nowMs, endedMs: 0, cpuAtStartMs: this.lastStats.get(workerId)?.cpuMs,
    };
    this.rows.set(a.attemptId, row);
    this.byCpid.set(cpid, row);
    this.tell(row);
    return cpid;
  }

  /**
   * Processes an earlier master recorded (ssi: read back from etcd after a restart): shown as they
   * were, and ids go on after theirs. One still live then was not seen to end: list() marks it moved.
   */
  restore(records: Iterable<ProcessRecord>): void {
    for (const record of records) {
      if (this.byCpid.has(record.cpid) || this.rows.has(record.attemptId)) continue;
      const row: Row = { ...record, cpuMs: 0, rssKib: 0, elapsedMs: 0, checkpointBytes: record.checkpoint?.bytesDone ?? 0 };
      this.rows.set(record.attemptId, row);
      this.byCpid.set(record.cpid, row);
      this.nextCpid = Math.max(this.nextCpid, record.cpid + 1);
    }
  }

  /** A worker's process figures: they update its running attempts. */
  sample(workerId: string, stats: ProcessStats): void {
    this.lastStats.set(workerId, stats);
    for (const row of this.rows.values()) {
      if (row.workerId !== workerId || !isLive(row.state)) continue;
      row.cpuAtStartMs ??= stats.cpuMs;
      row.cpuMs = Math.max(0, stats.cpuMs - row.cpuAtStartMs);
      row.rssKib = stats.maxRssKib;
    }
  }

  /** STOP / CONT: the attempt is held paused, or runs again. */
  setStopped(attemptId: string, stopped: boolean): void {
    const row = this.rows.get(attemptId);
    if (!row || !isLive(row.state)) return;
    row.state = stopped ? 'stopped' : 'running';
    this.tell(row);
  }

  /** A running map checkpointed. */
  checkpointed(attemptId: string, { seq, split, offset, spills, bytesDone, node, clusterDir }: Checkpoint): void {
    const row = this.rows.get(attemptId);
    if (!row || !isLive(row.state)) return;
    row.checkpoint = { seq, split, offset, spills, bytesDone, node, clusterDir };
    this.tell(row);
  }

  ended(attemptId: string, state: Exclude<ProcessState, 'running' | 'stopped'>, nowMs: number): void {
    const row = this.rows.get(attemptId);
    if (!row || !isLive(row.state)) return;
    row.state = state;
    row.endedMs = nowMs;
    this.tell(row);
  }

  attemptOf(cpid: number): { attemptId: string; state: string; workerId: string } | undefined {
    const row = this.byCpid.get(cpid);
    return row && { attemptId: row.attemptId, state: row.state, workerId: row.workerId };
  }

  /** Running attempts (all: finished ones too), by cpid. `isRunning` catches attempts lost without a report. */
  list(all: boolean, nowMs: number, isRunning: (attemptId: string) => boolean): ProcessEntry[] {
    const out: ProcessEntry[] = [];
    for (const row of this.byCpid.values()) {
      if (isLive(row.state) && !isRunning(row.attemptId)) {
        row.state = 'moved';
        row.endedMs = nowMs;
        this.tell(row);
      }
      if (!all && !isLive(row.state)) continue;
      const { workerId: _w, startedMs, endedMs, cpuAtStartMs: _c, checkpoint, ...entry } = row;
      out.push({ ...entry, elapsedMs: (endedMs || nowMs) - startedMs, checkpointBytes: checkpoint?.bytesDone ?? 0 });
    }
    return out;
  }
}
