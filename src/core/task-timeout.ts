// The progress timeout of an attempt (as Hadoop's mapreduce.task.timeout): an attempt whose
// reported progress has not moved for the timeout is stalled, and fails. No I/O, no clock.
import type { AttemptFigures } from './progress.ts';

/** Where an attempt's progress stood, and since when (the attempt's start until it first moves). */
export interface ProgressWatch {
  progressMark: number;
  progressMs: number;
}

/**
 * One number that grows whenever the attempt gets on: input read, records mapped, emitted or
 * reduced, map outputs fetched. Each figure only grows, so their sum changes when any does.
 */
export function progressMark(figures: AttemptFigures | undefined): number {
  if (!figures) return 0;
  return (figures.inputBytesRead ?? 0) + (figures.outputsFetched ?? 0) + (figures.records ?? 0);
}

/** A heartbeat's figure for the attempt; a paused attempt (mr kill -s STOP) counts as moving. */
export function noteProgress(watch: ProgressWatch, mark: number, paused: boolean, nowMs: number): void {
  if (paused || mark !== watch.progressMark) {
    watch.progressMark = mark;
    watch.progressMs = nowMs;
  }
}

/** timeoutMs 0 disables the timeout. */
export function isStalled(watch: ProgressWatch, timeoutMs: number, nowMs: number): boolean {
  return timeoutMs > 0 && nowMs - watch.progressMs >= timeoutMs;
}

/** What the user reads: which attempt, for how long, and the flag that sets the limit. */
export function stallReason(timeoutMs: number): string {
  return `made no progress for ${formatSeconds(timeoutMs)} s (task timeout, --task-timeout); killed`;
}

/** The attempt's name in a failure message: `map 3 attempt <id>`. */
export function attemptLabel(kind: string, index: number, attemptId: string): string {
  return `${kind} ${index} attempt ${attemptId}`;
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
