// `mr status`, `mr list` and `mr logs` without --master: the jobs `mr run` ran on its own master,
// read from the history it kept (history-dir.ts), in the shapes a live master answers with.
import { UsageError } from '../errors.ts';
import { isOfTask } from '../master/attempt-history.ts';
import { listJobStatuses, readJobRecord, type HistoryRecord } from '../storage/job-history.ts';
import type { AttemptLog, JobStatus } from '../wires/messages.ts';

async function recordOf(historyDir: string, jobId: string): Promise<HistoryRecord> {
  const record = await readJobRecord(historyDir, jobId);
  if (!record) {
    throw new UsageError(`no job ${jobId} in the history of mr run (${historyDir}); for a job of a running master give --master host:port`);
  }
  return record;
}

/** One job's final status, or every kept job's, oldest first. */
export async function historyStatuses(historyDir: string, jobId?: string): Promise<JobStatus[]> {
  return jobId ? [(await recordOf(historyDir, jobId)).status] : listJobStatuses(historyDir);
}

/** The job's attempts as `mr logs` shows them; `task` filters as the master does ("map-3", "s2.reduce-0"). */
export async function historyAttempts(historyDir: string, jobId: string, task: string): Promise<AttemptLog[]> {
  return (await recordOf(historyDir, jobId)).attempts.filter((a) => isOfTask(a, task));
}
