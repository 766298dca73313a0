// Starts a worker thread running a TypeScript module of this package (see bin/thread.mjs).
import { Worker, type WorkerOptions } from 'node:worker_threads';

const BOOTSTRAP = new URL('../bin/thread.mjs', import.meta.url);

/** entry: a file: URL of the module to run; data reaches it as workerData (with `entry` added). */
export function startThread(entry: URL, data: Record<string, unknown> = {}, options: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  return new Worker(BOOTSTRAP, { ...options, workerData: { ...data, entry: entry.href } });
}
