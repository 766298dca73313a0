// Types of bin/early-workers.mjs, for the TypeScript sources that use it.
import type { ChildProcess } from 'node:child_process';

export interface SpawnedWorker {
  child: ChildProcess;
  slot: number;
  dir: string;
  logPath: string;
  logStart: number;
}

export interface EarlySpawn {
  count: number;
  heapMib: number;
  workRoot: string;
  token: string;
  workers: SpawnedWorker[];
  adopted: boolean;
  /** Kills the workers and removes their directory (unless adopted). */
  drop: () => void;
}

export const EARLY_WORKERS: unique symbol;
export const DEFAULT_WORKER_HEAP_MIB: number;
export function workerNodeArgs(heapMib: number): string[];
export function spawnWorkerProcess(options: { workRoot: string; slot: number; argv: (dir: string) => string[]; nodeArgs: string[]; token: string }): SpawnedWorker;
export function plainWorkerArgv(dir: string): string[];
export function spawnEarlyWorkers(argv: string[]): void;
