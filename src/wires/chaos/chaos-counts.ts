// The tally of what the chaos layer did, per node and summed over a run's processes. Pure.
import type { ChaosCounts } from '../messages.ts';

export type { ChaosCounts };

export function emptyCounts(): ChaosCounts {
  return { messages: 0, droppedRequests: 0, droppedReplies: 0, delayed: 0, duplicated: 0, reordered: 0, throttled: 0, throttledMs: 0, partitioned: 0, intruders: 0, intrudersAdmitted: 0 };
}

/** The sum of several tallies; missing ones (a process without chaos) count nothing. */
export function sumCounts(all: readonly (ChaosCounts | null | undefined)[]): ChaosCounts {
  const sum = emptyCounts();
  for (const counts of all) {
    if (!counts) continue;
    for (const key of Object.keys(sum) as (keyof ChaosCounts)[]) sum[key] += Number(counts[key] ?? 0);
  }
  return sum;
}
