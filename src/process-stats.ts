// CPU time, peak memory and the start-up steps of this process, as reported in job status and
// benchmarks. The steps are epoch ms, so that those of several processes line up on one time line.
import type { AgreementCounts, ChaosCounts, ProcessStats } from './wires/messages.ts';

export type StartupStep = 'engine' | 'ready' | 'firstTask';

const steps: Partial<Record<StartupStep, number>> = {};

/** Notes that this process reached a step of its start-up (the first time only). */
export function reached(step: StartupStep): void {
  steps[step] ??= Date.now();
}

/** This process's CPU time and peak memory, and what --chaos did to the node's messages (a copy: the tally goes on). */
export function processStats(role: string, workerId: string, chaos?: ChaosCounts, agreement?: AgreementCounts): ProcessStats {
  const usage = resourceUsage();
  return {
    role, pid: process.pid, workerId,
    cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
    maxRssKib: usage.maxRSS,
    startedAtMs: Math.round(performance.timeOrigin), engineAtMs: steps.engine ?? 0, readyAtMs: steps.ready ?? 0, firstTaskAtMs: steps.firstTask ?? 0,
    chaos: chaos ? { ...chaos } : null,
    agreement: agreement ? { ...agreement } : null,
  };
}

/** How stale the CPU and memory figures may be: a worker reports after every tiny task, and each reading is a system call. */
const USAGE_MAX_AGE_MS = 100;
let usageAt = -Infinity;
let lastUsage: NodeJS.ResourceUsage | undefined;

function resourceUsage(): NodeJS.ResourceUsage {
  const nowMs = performance.now();
  if (!lastUsage || nowMs - usageAt > USAGE_MAX_AGE_MS) {
    lastUsage = process.resourceUsage();
    usageAt = nowMs;
  }
  return lastUsage;
}
