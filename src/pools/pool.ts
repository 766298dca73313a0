// The one interface of every pool of workers mr run starts for a backend: worker processes
// (process-pool.ts), worker threads hosting a simulated machine's nodes (thread-pool.ts), workers
// in this process (in-process-pool.ts), or a backend's own cluster (the horizontal balancer's).
export interface Pool {
  start(): Promise<void>;
  /** After the master told the workers to stop: waits up to graceMs, then ends them. */
  stop(graceMs: number): Promise<void>;
  /** The OS processes of its workers (killed on the way out of a second Ctrl-C); none for threads. */
  pids?(): number[];
}
