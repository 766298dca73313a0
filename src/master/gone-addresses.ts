// Addresses of workers the master presumed dead lately, told to every worker in its heartbeat
// replies: a reducer's stream from one of them will bring nothing more (a host that vanished
// sends no reset), so the reducer gives up on it at once instead of waiting out its idle limit.
// Kept a minute; dropped when a worker registers at the address again.
export const GONE_KEEP_MS = 60_000;

export class GoneAddresses {
  private readonly since = new Map<string, number>();

  gone(address: string, nowMs: number): void {
    this.since.set(address, nowMs);
  }

  /** A worker registered at the address: it serves again. */
  back(address: string): void {
    this.since.delete(address);
  }

  /** Those gone within the last GONE_KEEP_MS. */
  list(nowMs: number): string[] {
    for (const [address, at] of this.since) if (nowMs - at > GONE_KEEP_MS) this.since.delete(address);
    return [...this.since.keys()];
  }
}
