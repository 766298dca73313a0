// The attempt whose failure failed a job, and the last lines it printed: what `mr run` shows
// under its error line (or in --json) so a failed job says what its code printed.
import type { AttemptLog, JobStatus } from '../wires/messages.ts';

export const TAIL_LINES = 10;
// A line past this is cut: ten lines of a job's output must stay readable on a terminal.
export const MAX_LINE_CHARS = 500;

export interface FailedAttempt {
  attemptId: string;
  task: string;
  workerId: string;
  error: string;
  lastLines: string[];           // the last TAIL_LINES lines of its log
}

/**
 * The job's error names the task that failed it ("stage 2 map task 6 failed 4 times; ..."): its
 * last failed attempt is the one that failed the job. Otherwise (a stage that could not start, say)
 * the last attempt that failed, if any did.
 */
export function failedAttemptOf(status: JobStatus, attempts: readonly AttemptLog[], lines = TAIL_LINES): FailedAttempt | undefined {
  if (status.state !== 'failed') return undefined;
  const failed = attempts.filter((a) => a.state === 'failed').sort((a, b) => a.endedMs - b.endedMs);
  const named = /^stage (\d+) (map|reduce) task (\d+) failed/.exec(status.error);
  const task = named && `s${named[1]}.${named[2]}-${named[3]}`;
  const attempt = failed.filter((a) => a.task === task).at(-1) ?? failed.at(-1);
  if (!attempt) return undefined;
  return { attemptId: attempt.attemptId, task: attempt.task, workerId: attempt.workerId, error: attempt.error, lastLines: lastLines(attempt.log, lines) };
}

export function lastLines(log: string, count: number): string[] {
  if (log === '') return [];
  const all = log.endsWith('\n') ? log.slice(0, -1).split('\n') : log.split('\n');
  return all.slice(-count).map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)} ... (cut)` : line));
}

/** The lines after `mr: job failed: ...`: a header naming the attempt, its last lines, where to see all. */
export function failedAttemptLines(failed: FailedAttempt, logsCommand: string): string[] {
  const where = `attempt ${failed.attemptId} (${failed.task} on ${failed.workerId})`;
  const head = failed.lastLines.length
    ? `mr: the last ${failed.lastLines.length} line(s) that ${where} printed:`
    : `mr: ${where} printed nothing`;
  return [head, ...failed.lastLines.map((line) => `  ${line}`), `mr: every attempt's log: ${logsCommand}`];
}
