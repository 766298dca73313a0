// The worker's watchdog against a job function that never returns (`while (true) {}`): such a
// loop blocks the event loop, so nothing on it can stop the attempt, or even send a heartbeat.
// A thread of its own sees the main thread's counters stand still and kills the process, after
// one line on stderr that names the attempts and the reason (mr run reads it from the log), and
// the same in a file of its work dir, which the worker restarted there reports to the master.
import { readFile, rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

/** [0]: progress (records read, emitted, reduced), bumped by the task loops; [1]: event loop turns. */
const counters = new Int32Array(new SharedArrayBuffer(8));

/** Called per record by the task loops: a plain store, read by the watchdog thread. */
export function bumpProgress(): void {
  counters[0]++;
}

export interface WatchedAttempt {
  attemptId: string;
  label: string;                 // `map 3 attempt <id>`
}

/** What the watchdog prints before it kills the process: a log line mr run looks for. */
export const STALL_MSG = 'task timeout';

// Plain JavaScript run with eval: the thread needs no loader, no bundle, no import of the engine.
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeFileSync, writeSync } = require('node:fs');
const counters = new Int32Array(workerData.buffer);
let running = [];
let last = '';
let sinceMs = Date.now();
parentPort.on('message', (message) => { running = message.running; sinceMs = Date.now(); });
setInterval(() => {
  const now = Atomics.load(counters, 0) + '/' + Atomics.load(counters, 1);
  if (running.length === 0 || now !== last) { last = now; sinceMs = Date.now(); return; }
  if (Date.now() - sinceMs < workerData.timeoutMs) return;
  const error = running.map((a) => a.label).join(', ') + ' ' + workerData.reason;
  const attemptIds = running.map((a) => a.attemptId);
  try { writeFileSync(workerData.lastWordsPath, JSON.stringify({ attempts: running, reason: workerData.reason })); } catch {}
  writeSync(2, JSON.stringify({ level: 'error', component: 'worker', msg: ${JSON.stringify(STALL_MSG)}, error, attemptIds }) + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, workerData.checkMs);
`;

export class StallWatchdog {
  private readonly thread: Worker;
  private readonly turns: NodeJS.Timeout;

  /** reason: the end of the line printed, after the attempts' names; lastWordsPath: where it goes too (see lastWords). */
  constructor(timeoutMs: number, reason: string, lastWordsPath: string) {
    const checkMs = Math.max(50, Math.min(1000, timeoutMs / 10));
    this.thread = new Worker(THREAD_CODE, { eval: true, workerData: { buffer: counters.buffer, timeoutMs, reason, checkMs, lastWordsPath } });
    this.thread.unref();
    this.turns = setInterval(() => counters[1]++, checkMs / 2);
    this.turns.unref();
  }

  /** The attempts running now (sent on each start and end: the message arrives though the loop then blocks). */
  watch(running: readonly WatchedAttempt[]): void {
    this.thread.postMessage({ running });
  }

  async stop(): Promise<void> {
    clearInterval(this.turns);
    await this.thread.terminate();
  }
}

/** What a watchdog left in lastWordsPath before it killed the process (removed once read), if anything. */
export async function lastWords(path: string): Promise<{ attempts: WatchedAttempt[]; reason: string } | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  await rm(path, { force: true });
  try {
    return JSON.parse(text) as { attempts: WatchedAttempt[]; reason: string };
  } catch {
    return undefined; // cut short by the kill: nothing to tell
  }
}
