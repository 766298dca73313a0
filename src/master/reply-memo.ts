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
  /** Replies in the order they were given (the clock only goes forward): prune takes from the front. */
  private settled: [string, Entry<T>][] = [];
  private oldest = 0;

  /** keepMs: how long a reply is remembered once given; longer than any retry or duplicate takes to come. */
  constructor(private readonly keepMs: number, private readonly now: () => number) {}

  once(key: string, work: () => Promise<T>): Promise<T> {
    const known = this.entries.get(key);
    if (known) return known.reply;
    const entry: Entry<T> = { reply: new Promise<T>((resolve) => resolve(work())) };
    this.entries.set(key, entry);
    // A request that failed did nothing the caller could be told of: asking again does it anew.
    entry.reply.then(() => {
      entry.settledMs = this.now();
      this.settled.push([key, entry]);
    }, () => this.entries.delete(key));
    return entry.reply;
  }

  /** Forgets the replies given more than keepMs ago: only those, not a walk of every reply remembered. */
  prune(): void {
    const before = this.now() - this.keepMs;
    while (this.oldest < this.settled.length && this.settled[this.oldest][1].settledMs! < before) {
      const [key, entry] = this.settled[this.oldest++];
      if (this.entries.get(key) === entry) this.entries.delete(key);
    }
    if (this.oldest > 1024 && this.oldest * 2 > this.settled.length) {
      this.settled = this.settled.slice(this.oldest);
      this.oldest = 0;
    }
  }
}
