// CPU time and peak memory of this process, as reported in job status and benchmarks.
import type { ChaosCounts, ProcessStats } from './transport/messages.ts';

/** This process's CPU time and peak memory, and what --chaos did to the node's messages (a copy: the tally goes on). */
export function processStats(role: string, workerId: string, chaos?: ChaosCounts): ProcessStats {
  const usage = process.resourceUsage();
  return {
    role, pid: process.pid, workerId,
    cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
    maxRssKib: usage.maxRSS,
    ...(chaos ? { chaos: { ...chaos } } : {}),
  };
}
