// CPU time and peak memory of this process, as reported in job status and benchmarks.
import type { ProcessStats } from './transport/messages.ts';

/** This process's CPU time and peak memory. */
export function processStats(role: string, workerId: string): ProcessStats {
  const usage = process.resourceUsage();
  return {
    role, pid: process.pid, workerId,
    cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
    maxRssKib: usage.maxRSS,
  };
}
