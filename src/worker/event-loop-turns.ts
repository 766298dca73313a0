// User code (map, combine, reduce) runs on the worker's event loop, which also carries its
// heartbeats, cancellation and pausing. A task loop asks `due()` between records and lets the
// loop turn with `turn()` once it has held it this long: a slow job must not look like a dead
// worker to the master. Every 10 ms, because the loop also serves this worker's map outputs to
// other workers' reducers: at 50 ms, a reducer's fetch from a busy worker waited several turns
// (a third of the reduce phase on a large vocabulary); a turn costs microseconds.
export const TURN_EVERY_MS = 10;

export class EventLoopTurns {
  private lastMs = performance.now();

  /** True once the loop has been held for TURN_EVERY_MS since the last turn. */
  due(): boolean {
    return performance.now() - this.lastMs > TURN_EVERY_MS;
  }

  /** Lets timers and I/O run (setImmediate), then starts a new period. */
  async turn(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.lastMs = performance.now();
  }
}
