// Rebuilds the master's state from its journal after a restart: jobs, their stages and every
// committed task, so that committed work is not redone. Workers get a fresh timeout to come back.
import type { Scheduler } from '../core/scheduler.ts';
import type { MapInput, Split } from '../core/splits.ts';
import { phaseOf } from '../core/task-table.ts';
import type { JobSpec, PendingUpload } from '../wires/messages.ts';
import type { JournalRecord } from './journal.ts';
import { taskKey } from './task-key.ts';

export interface RecoveredState {
  specs: Map<string, JobSpec[]>;
  files: Map<string, string[]>;
  workerAddresses: Map<string, string>;
  uploads: Map<string, PendingUpload>;
}

export interface Recovery {
  epoch: number;                                        // the previous run's epoch
  toCommit: { jobId: string; stage: number }[];         // every reduce done, _SUCCESS maybe not written
  toStart: { jobId: string; inputs?: string[] }[];      // the next stage not yet started (inputs: the last stage's files)
}

export function replay(records: readonly JournalRecord[], scheduler: Scheduler, state: RecoveredState, nowMs: number): Recovery {
  let epoch = 0;
  const lastFiles = new Map<string, string[]>();
  for (const record of records) {
    switch (record.t) {
      case 'epoch': epoch = record.epoch; break;
      case 'worker':
        scheduler.registerWorker(record.workerId, nowMs);
        state.workerAddresses.set(record.workerId, record.address);
        break;
      case 'job':
        state.specs.set(record.jobId, record.stages);
        scheduler.addJob(record.jobId, record.stages.length, record.stages[0].maxAttempts || 4, nowMs, record.stages[0].speculation);
        break;
      case 'stage-start': scheduler.startStage(record.jobId, mapInputsOf(record.splits), record.reducers, nowMs); break;
      case 'task-done':
        scheduler.restoreTaskDone(record.jobId, record.stage, record.kind, record.index, record.output, record.counters, nowMs,
          record.partitionBytes, record.partitionRecords);
        // A reduce's part in object storage, not yet completed when the master went: completed at the commit.
        if (record.upload) state.uploads.set(taskKey(record.jobId, record.stage, record.index), record.upload);
        break;
      case 'stage-done':
        lastFiles.set(record.jobId, record.files);
        if (record.stage === state.specs.get(record.jobId)?.length) state.files.set(record.jobId, record.files);
        scheduler.completeStage(record.jobId, nowMs);
        break;
      case 'job-end': // the steps these return were carried out before the restart: nothing to do again
        if (record.state === 'failed') scheduler.failJob(record.jobId, record.error ?? 'failed', nowMs);
        if (record.state === 'killed') scheduler.kill(record.jobId, nowMs);
        break;
    }
  }
  return { epoch, ...unfinishedWork(scheduler, lastFiles) };
}

function unfinishedWork(scheduler: Scheduler, lastFiles: Map<string, string[]>): Omit<Recovery, 'epoch'> {
  const toCommit: Recovery['toCommit'] = [];
  const toStart: Recovery['toStart'] = [];
  for (const job of scheduler.jobs.values()) {
    if (job.state !== 'running' && job.state !== 'queued') continue;
    const stage = job.stages[job.stages.length - 1];
    if (job.awaitingStage) toStart.push({ jobId: job.id, inputs: stage ? lastFiles.get(job.id) : undefined });
    else if (stage && phaseOf(stage) === 'commit') toCommit.push({ jobId: job.id, stage: stage.stage });
  }
  return { toCommit, toStart };
}

/** A journal written before small files were packed holds one split per map task, not a list. */
function mapInputsOf(splits: readonly (MapInput | Split)[]): MapInput[] {
  return splits.map((input) => (Array.isArray(input) ? input : [input]));
}
