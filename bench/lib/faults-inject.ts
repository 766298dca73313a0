// The injected faults: a worker killed outright once the map phase is half done, and a worker
// slowed down for the whole job by a SIGSTOP/SIGCONT duty cycle (a "straggler" in the paper's words).
import { performance } from 'node:perf_hooks';
import { progress } from './progress.ts';
import { signal, sleep } from './faults-procs.ts';
import type { JobProgress } from './faults-run.ts';

/** What was actually done, for the JSON and the table's notes. */
export interface FaultRecord {
  kind: 'none' | 'kill' | 'slow';
  note: string;
  [key: string]: unknown;
}

export interface Fault {
  /** Called before the job is submitted. */
  start(): void;
  /** Called with every status poll while the job runs. */
  onProgress(progress: JobProgress): void;
  /** Called once the job has ended (or failed): undoes whatever is still in effect. */
  finish(): Promise<FaultRecord>;
}

export function noFault(): Fault {
  return { start() {}, onProgress() {}, finish: async () => ({ kind: 'none', note: '' }) };
}

/** SIGKILLs the worker the first time a poll sees mapDone >= mapTotal / 2. */
export function killAtHalfMap(pid: number): Fault {
  let killed: Record<string, unknown> | undefined;
  return {
    start() {},
    onProgress(p) {
      if (killed || p.mapTotal === 0 || p.mapDone < p.mapTotal / 2) return;
      const ok = signal(pid, 'SIGKILL');
      killed = { atMs: Math.round(p.sinceStartMs), mapDone: p.mapDone, mapTotal: p.mapTotal, phase: p.phase, delivered: ok };
      progress(`  SIGKILL worker ${pid} at map ${p.mapDone}/${p.mapTotal} (${(p.sinceStartMs / 1000).toFixed(1)} s, phase ${p.phase})`);
    },
    async finish() {
      if (!killed) return { kind: 'kill', note: 'NOT KILLED: no poll saw the map phase half done' };
      return { kind: 'kill', note: `killed at map ${killed.mapDone}/${killed.mapTotal}`, ...killed };
    },
  };
}

/**
 * Lets the worker run `runMs` of every `periodMs` (10 of 100 ms: 10x slower) by a timer loop of
 * SIGCONT, wait, SIGSTOP, wait. Timers overshoot by a little, so the share it actually ran is
 * measured and reported rather than assumed.
 */
export function slowDown(pid: number, runMs = 10, periodMs = 100): Fault {
  let active = false;
  let loop: Promise<void> = Promise.resolve();
  let runningMs = 0;
  let cycles = 0;
  let began = 0;
  const cycle = async (): Promise<void> => {
    while (active) {
      const resumed = performance.now();
      if (!signal(pid, 'SIGCONT')) return;
      await sleep(runMs);
      if (!active) break;
      signal(pid, 'SIGSTOP');
      runningMs += performance.now() - resumed;
      cycles++;
      await sleep(periodMs - runMs);
    }
    signal(pid, 'SIGCONT'); // never leave it stopped
  };
  return {
    start() {
      active = true;
      began = performance.now();
      loop = cycle();
    },
    onProgress() {},
    async finish() {
      active = false;
      await loop;
      signal(pid, 'SIGCONT');
      const share = runningMs / Math.max(1, performance.now() - began);
      const note = `worker ran ${(share * 100).toFixed(1)}% of the time`;
      return { kind: 'slow', note, runMs, periodMs, cycles, measuredRunShare: share };
    },
  };
}
