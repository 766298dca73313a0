// Group commit's bookkeeping, the same for every journal: records are numbered as they are
// written, a write to durable storage covers every record before it, and whoever waits for a
// record is answered once a write has covered it (or told of the failure that left it unknown).

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class CommitWaiters {
  /** Records written (numbered from 1). */
  written: number;
  /** Of those, how many a durable write has covered. */
  durable: number;
  /** A write that failed: nothing written may be acknowledged again. */
  failed?: Error;
  private waiters: Waiter[] = [];

  constructor(before = 0) {
    this.written = before;
    this.durable = before;
  }

  /** Resolves once every record written so far is durable; schedule: start a write if none is under way. */
  sync(schedule: () => void): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.durable >= this.written) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq: this.written, resolve, reject });
      schedule();
    });
  }

  /** A write covered the records up to upTo (or failed with error): answers whoever that answers; true if some still wait. */
  covered(upTo: number, error?: Error): boolean {
    if (error) this.failed ??= error;
    else this.durable = Math.max(this.durable, upTo);
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (this.failed) waiter.reject(this.failed);
      else if (waiter.seq <= this.durable) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
    return still.length > 0;
  }

  /** Every record is taken as durable now (the file closed after a last sync). */
  settleAll(): void {
    this.durable = this.written;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }
}
