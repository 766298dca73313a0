// /events: the job list as Server-Sent Events. One poller for every client: it reads the list every
// pollMs while someone listens, and sends it only when it changed; a comment every pingMs keeps
// idle connections open.
import type { ServerResponse } from 'node:http';
import { sseComment, sseEvent, sseRetry } from './sse.ts';

export interface JobEventsOptions {
  jobsJson: () => Promise<string>;   // {"jobs":[...]}
  pollMs?: number;
  pingMs?: number;
  onError?: (error: unknown) => void;
}

export class JobEvents {
  private readonly clients = new Set<ServerResponse>();
  private last = '';
  private poller?: NodeJS.Timeout;
  private pinger?: NodeJS.Timeout;
  private polling = false;
  private closed = false;

  constructor(private readonly options: JobEventsOptions) {}

  /** Sends the current list at once, then every change, until the client goes or the server closes. */
  async add(res: ServerResponse): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (this.closed) {
      res.end();
      return;
    }
    this.clients.add(res);
    res.on('close', () => this.remove(res));
    res.write(sseRetry(2000));
    const json = await this.options.jobsJson();
    if (!this.clients.has(res)) return;
    // A change the others have not seen yet goes to them too; else only the newcomer needs it.
    if (json !== this.last) {
      this.last = json;
      this.broadcast(sseEvent('jobs', json));
    } else {
      res.write(sseEvent('jobs', json));
    }
    this.start();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Ends every stream (the master stops). */
  close(): void {
    this.closed = true;
    this.stop();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  private start(): void {
    if (this.poller) return;
    this.poller = setInterval(() => void this.poll(), this.options.pollMs ?? 500);
    this.pinger = setInterval(() => this.broadcast(sseComment('ping')), this.options.pingMs ?? 15_000);
    this.poller.unref();
    this.pinger.unref();
  }

  private stop(): void {
    clearInterval(this.poller);
    clearInterval(this.pinger);
    this.poller = this.pinger = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // a slow read: skip a beat rather than pile up
    this.polling = true;
    try {
      const json = await this.options.jobsJson();
      if (json !== this.last) {
        this.last = json;
        this.broadcast(sseEvent('jobs', json));
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.polling = false;
    }
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) res.write(frame);
  }
}
