// Replies remembered by request: a request that comes again (retried after its reply was lost,
// or duplicated on the way) gets the first one's reply, whether that is still being worked out or
// already sent, instead of being acted on twice. What makes a task request, a report or a job
// submission safe to retry.

interface Entry<T> {
  reply: Promise<T>;
  settledMs?: number;
}

export class ReplyMemo<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** keepMs: how long a reply is remembered once given; longer than any retry or duplicate takes to come. */
  constructor(private readonly keepMs: number, private readonly now: () => number) {}

  once(key: string, work: () => Promise<T>): Promise<T> {
    const known = this.entries.get(key);
    if (known) return known.reply;
    const entry: Entry<T> = { reply: new Promise<T>((resolve) => resolve(work())) };
    this.entries.set(key, entry);
    // A request that failed did nothing the caller could be told of: asking again does it anew.
    entry.reply.then(() => (entry.settledMs = this.now()), () => this.entries.delete(key));
    return entry.reply;
  }

  /** Forgets the replies given more than keepMs ago. */
  prune(): void {
    const before = this.now() - this.keepMs;
    for (const [key, entry] of this.entries) {
      if (entry.settledMs !== undefined && entry.settledMs < before) this.entries.delete(key);
    }
  }
}
