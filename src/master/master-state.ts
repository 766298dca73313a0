// Everything the master holds, in one record its modules (job intake, task dispatch, stage
// commit, cluster operations) share: nothing else writes it, and nothing reads it from outside.
import { GoneAddresses } from './gone-addresses.ts';
import { Scheduler } from '../core/scheduler.ts';
import type { AttemptFigures, StageProgress } from '../core/progress.ts';
import { DEFAULTS } from '../config.ts';
import type { Logger } from '../log.ts';
import type { OutputClaim } from '../storage/output-dir.ts';
import type * as M from '../wires/messages.ts';
import { AttemptHistory } from './attempt-history.ts';
import { CheckpointBook } from './checkpoint-book.ts';
import type { TaskKey } from './task-key.ts';
import type { JournalSink } from './journal.ts';
import { NodeTable } from './node-table.ts';
import { ProcessTable, type ProcessRecord } from './process-table.ts';
import { ReplyMemo } from './reply-memo.ts';

export interface MasterOptions {
  log: Logger;
  journalPath?: string;          // journal jobs and commits here, and resume from it on start
  leaseMs?: number;
  heartbeatIntervalMs?: number;
  workerTimeoutMs?: number;
  taskTimeoutMs?: number;        // an attempt whose progress does not move this long fails (0: never)
  now?: () => number;
  nodes?: number;                // a simulated machine: place tasks statically on this many nodes
  onJobEnd?: (jobId: string) => void; // a job succeeded, failed or was killed
  chaosCounts?: () => M.ChaosCounts | undefined; // what --chaos did to this process's messages
  onAttemptEnd?: (attempt: M.AttemptLog, counters: Record<string, number>) => void; // a report was taken (metrics)
  onProcess?: (record: ProcessRecord) => void; // a process started or changed state (ssi: published to the agreed state)
}

/** How long the master remembers a reply it gave, for the same request coming again (see ReplyMemo). */
const REPLY_KEEP_MS = 120_000;

/** A worker's long poll for a task, answered when one is there for it or when its wait is over. */
export interface Waiter {
  workerId: string;
  maxTasks: number;              // it takes a batch of up to this many
  resolve: (reply: M.TaskReply) => void;
  timer: NodeJS.Timeout;
}

export interface MasterTiming {
  heartbeatIntervalMs: number;
  leaseMs: number;
  taskTimeoutMs: number;
  workerTimeoutMs: number;
}

export interface MasterState {
  readonly options: MasterOptions;   // the log and the callbacks
  readonly now: () => number;
  readonly timing: MasterTiming;
  readonly scheduler: Scheduler;     // every decision; the rest is what the I/O around it needs
  journal?: JournalSink;             // set by recovery when there is a journal (a file, or etcd with --ha)
  // Jobs: their stages as submitted, the files of the finished ones, and each unfinished job's
  // claim on its output (the dirs made for it are removed if it fails). A job without a claim owns
  // no output: nothing there is touched for it.
  readonly specs: Map<string, M.JobSpec[]>;
  readonly files: Map<string, string[]>;
  readonly claims: Map<string, OutputClaim>;
  // Workers: where they serve, their process ids (embedded mode sees a process die), their figures, their nodes.
  readonly workerAddresses: Map<string, string>;
  readonly goneAddresses: GoneAddresses;
  readonly workerPids: Map<number, string>;
  readonly workerStats: Map<string, M.ProcessStats>;
  readonly nodeTable: NodeTable;
  readonly processTable: ProcessTable;
  // Attempts: every one's outcome (history), the reported ones' acceptance, those held paused
  // (mr kill -s STOP), those whose report is being taken, and what each worker's running ones last reported.
  readonly history: AttemptHistory;
  readonly outcomes: Map<string, boolean>;
  readonly stopped: Set<string>;
  readonly reporting: Set<string>;
  readonly attemptFigures: Map<string, Map<string, AttemptFigures>>;
  readonly shownProgress: Map<string, StageProgress>; // per stage: the progress shown never drops
  readonly checkpoints: CheckpointBook;  // map attempts' latest checkpoints, and where moved or lost tasks resume
  readonly uploads: Map<TaskKey, M.PendingUpload>;  // outputs in object storage: each committed reduce's part, to complete at the stage's commit
  // Long polls, and the shutdown every worker is told of at its next request.
  waiters: Waiter[];
  shuttingDown: boolean;
  /** No task is handed out while set (ssi: the agreed process table is being read back after a restart). */
  holdingTasks: boolean;
  // Requests that may come twice (a retry after a lost reply, a duplicate on the way) are answered once.
  readonly memos: {
    submissions: ReplyMemo<M.SubmitJobReply>; polls: ReplyMemo<M.TaskReply>; reports: ReplyMemo<M.AttemptReportReply>;
    batchReports: ReplyMemo<M.AttemptReportsReply>;
  };
}

export function createMasterState(options: MasterOptions): MasterState {
  const now = options.now ?? Date.now;
  const timing: MasterTiming = {
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
    leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
    taskTimeoutMs: options.taskTimeoutMs ?? DEFAULTS.taskTimeoutMs,
    workerTimeoutMs: options.workerTimeoutMs ?? DEFAULTS.workerTimeoutMs,
  };
  const scheduler = new Scheduler({
    leaseMs: timing.leaseMs, workerTimeoutMs: timing.workerTimeoutMs, nodes: options.nodes, taskTimeoutMs: timing.taskTimeoutMs,
  });
  return {
    options, now, timing, scheduler,
    specs: new Map(), files: new Map(), claims: new Map(),
    workerAddresses: new Map(), goneAddresses: new GoneAddresses(), workerPids: new Map(), workerStats: new Map(), nodeTable: new NodeTable(), processTable: new ProcessTable(options.onProcess),
    history: new AttemptHistory(), outcomes: new Map(), stopped: new Set(), reporting: new Set(), attemptFigures: new Map(), shownProgress: new Map(), checkpoints: new CheckpointBook(), uploads: new Map(),
    waiters: [], shuttingDown: false, holdingTasks: false,
    memos: { submissions: new ReplyMemo(REPLY_KEEP_MS, now), polls: new ReplyMemo(REPLY_KEEP_MS, now), reports: new ReplyMemo(REPLY_KEEP_MS, now),
      batchReports: new ReplyMemo(REPLY_KEEP_MS, now) },
  };
}
