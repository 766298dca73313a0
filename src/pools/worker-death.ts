// Why a worker process that `mr run` started died, from how it exited and the end of its log:
// out of memory (V8 aborts, after "JavaScript heap out of memory"), or killed by its own watchdog
// for a stalled attempt (one JSON line naming the attempts). Anything else is no attempt's fault.
import { STALL_MSG } from '../worker/stall-watchdog.ts';

export interface WorkerDeath {
  reason: string;                // the end of an attempt's error, after `map 3 attempt <id>`
  attemptIds?: string[];         // the attempts it names; absent: those running on the worker
}

const OUT_OF_MEMORY = /JavaScript heap out of memory|Reached heap limit|Allocation failed/;

/** logTail: what the process wrote to its log in this life. heapMib: its --max-old-space-size. */
export function diagnoseDeath(logTail: string, heapMib: number): WorkerDeath | undefined {
  const lines = logTail.trim().split('\n');
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 50; i--) {
    const stall = stallLine(lines[i]);
    if (stall) return stall;
  }
  if (OUT_OF_MEMORY.test(logTail)) {
    return {
      // Only mr run's own workers are diagnosed here: the way to raise their limit, as docs/running.md says (--worker-heap-mib).
      reason: `ran out of memory (the worker heap limit is ${heapMib} MiB); raise it with mr run --worker-heap-mib <MiB> `
        + 'or MR_WORKER_NODE_ARGS=--max-old-space-size=<MiB>',
    };
  }
  return undefined;
}

function stallLine(line: string): WorkerDeath | undefined {
  if (!line.includes(`"msg":"${STALL_MSG}"`)) return undefined;
  try {
    const { error, attemptIds } = JSON.parse(line) as { error: string; attemptIds: string[] };
    // The watchdog's error names the attempts itself; the master names each in its own message.
    const reason = error.slice(error.lastIndexOf(' made no progress') + 1);
    return { reason, attemptIds };
  } catch {
    return undefined;
  }
}

/** The heap limit a worker runs with: the last --max-old-space-size among its node flags wins. */
export function heapLimitMib(nodeArgs: readonly string[], fallbackMib: number): number {
  let mib = fallbackMib;
  for (const arg of nodeArgs) {
    const match = /^--max-old-space-size=(\d+)$/.exec(arg);
    if (match) mib = Number(match[1]);
  }
  return mib;
}
