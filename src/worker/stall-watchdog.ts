// The worker's liveness thread. A job function that takes long over one record (or never returns:
// `while (true) {}`) holds the event loop, so nothing on it can send a heartbeat or stop the attempt.
// A thread of its own sees the main thread's counters stand still, and:
// - while the loop is held past a heartbeat interval, tells the master the worker is alive and
//   busy (as Hadoop's task reporter thread does): liveness never depends on how long one call takes;
// - once no progress was made for the task timeout, kills the process, after one line on stderr
//   that names the attempts and the reason (mr run reads it from the log), and the same in a file
//   of its work dir, which the worker restarted there reports to the master.
import { readFile, rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

/**
 * [0]: progress (records read, emitted, reduced), bumped by the task loops; [1]: event loop turns;
 * [2]: the version of the attempt list (odd while it is being written); [3]: the list's length in bytes.
 */
const counters = new Int32Array(new SharedArrayBuffer(16));
/**
 * The attempts the worker holds, as JSON ({ running, queued }), written in place by watch(): a
 * message per attempt started and ended cost more than a tiny task (a structured clone and a
 * wake-up of the thread each); the thread reads the list when its version moved.
 */
const LIST_BYTES = 256 * 1024;
const list = new Uint8Array(new SharedArrayBuffer(LIST_BYTES));

const encoder = new TextEncoder();
const entryJsons = new WeakMap<WatchedAttempt, string>();

function entryJson(entry: WatchedAttempt): string {
  let json = entryJsons.get(entry);
  if (json === undefined) entryJsons.set(entry, (json = JSON.stringify(entry)));
  return json;
}

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

// Plain JavaScript run with eval: the thread loads no engine code unless the loop is held (the pulse).
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeFileSync, writeSync } = require('node:fs');
const counters = new Int32Array(workerData.buffer);
const list = new Uint8Array(workerData.list);
const pulse = workerData.pulse;
let running = [];
let queued = [];
let version = 0;
let last = '';
let sinceMs = Date.now();
let turns = -1;
let turnMs = Date.now();
let pulsedMs = 0;
let send;
const PRELOAD_MS = 200;
// A seqlock: the list is taken only when its version is even and the same before and after the copy.
function readList() {
  const before = Atomics.load(counters, 2);
  if (before === version || (before & 1) === 1) return;
  const bytes = list.slice(0, Atomics.load(counters, 3));
  if (Atomics.load(counters, 2) !== before) return;
  try {
    const held = JSON.parse(new TextDecoder().decode(bytes));
    running = held.running;
    queued = held.queued;
    version = before;
    sinceMs = Date.now();
  } catch {}
}
function connect() {
  send ??= (async () => {
    const { registerJobHooks } = await import(pulse.hooksUrl);
    await registerJobHooks();
    const { connectPulse } = await import(pulse.moduleUrl);
    return connectPulse(pulse.recipe);
  })();
  return send;
}
function beat() {
  connect().then((call) => call([...running, ...queued].map((a) => a.attemptId))).catch((error) => {
    writeSync(2, JSON.stringify({ level: 'warn', component: 'worker', msg: 'busy heartbeat failed', error: String(error && error.message || error) }) + '\\n');
  });
}
setInterval(() => {
  readList();
  const nowMs = Date.now();
  const turned = Atomics.load(counters, 1);
  if (turned !== turns) { turns = turned; turnMs = nowMs; }
  else if (pulse && running.length > 0) {
    // The client loads while the loop is held a little (a cold load takes a good part of a second).
    if (nowMs - turnMs >= PRELOAD_MS) connect().catch(() => {});
    if (nowMs - turnMs >= pulse.intervalMs / 2 && nowMs - pulsedMs >= pulse.intervalMs) { pulsedMs = nowMs; beat(); }
  }
  if (workerData.timeoutMs <= 0) return;
  const now = Atomics.load(counters, 0) + '/' + turned;
  if (running.length === 0 || now !== last) { last = now; sinceMs = nowMs; return; }
  if (nowMs - sinceMs < workerData.timeoutMs) return;
  const error = running.map((a) => a.label).join(', ') + ' ' + workerData.reason;
  const attemptIds = running.map((a) => a.attemptId);
  try { writeFileSync(workerData.lastWordsPath, JSON.stringify({ attempts: running, reason: workerData.reason })); } catch {}
  writeSync(2, JSON.stringify({ level: 'error', component: 'worker', msg: ${JSON.stringify(STALL_MSG)}, error, attemptIds }) + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, workerData.checkMs);
`;

/** What the liveness thread needs to reach the master as the worker does; structured-clonable. */
export interface PulseRecipe {
  transport: string;
  token?: string;
  tls?: { cert: Uint8Array; key: Uint8Array; ca: Uint8Array };
  masterAddress: string;
  workerId: string;
}

const PULSE_MODULE = new URL('../pools/pulse-client.ts', import.meta.url).href;
const HOOKS_MODULE = new URL('../../bin/job-hooks.mjs', import.meta.url).href;

export interface WatchdogOptions {
  /** No progress this long kills the process (0: never). */
  timeoutMs: number;
  /** The end of the line printed, after the attempts' names. */
  reason: string;
  /** Where the line goes too (see lastWords). */
  lastWordsPath: string;
  /** How to say "alive, busy" for the worker while its loop is held, and how often. */
  pulse?: { recipe: PulseRecipe; intervalMs: number };
}

export class StallWatchdog {
  private readonly thread: Worker;
  private readonly turns: NodeJS.Timeout;

  constructor({ timeoutMs, reason, lastWordsPath, pulse }: WatchdogOptions) {
    const limits = [1000, ...(timeoutMs > 0 ? [timeoutMs / 10] : []), ...(pulse ? [pulse.intervalMs / 4] : [])];
    const checkMs = Math.max(50, Math.min(...limits));
    const pulseData = pulse && { ...pulse, moduleUrl: PULSE_MODULE, hooksUrl: HOOKS_MODULE };
    this.thread = new Worker(THREAD_CODE, { eval: true, workerData: { buffer: counters.buffer, list: list.buffer, timeoutMs, reason, checkMs, lastWordsPath, pulse: pulseData } });
    this.thread.unref();
    this.turns = setInterval(() => counters[1]++, checkMs / 2);
    this.turns.unref();
  }

  /**
   * The attempts running now, and those given to the worker that wait their turn (a batch of tiny
   * tasks): the busy heartbeat renews all their leases, a stall names the running ones only.
   * Written to shared memory at each start and end, so the thread sees it though the loop then blocks.
   */
  watch(running: readonly WatchedAttempt[], queued: readonly WatchedAttempt[] = []): void {
    // Each entry's JSON is made once (a batch of tiny tasks rewrites the list twice a task), and
    // the text is encoded straight into the shared list.
    let text = `{"running":[${running.map(entryJson).join(',')}],"queued":[${queued.map(entryJson).join(',')}]}`;
    if (text.length * 3 > LIST_BYTES) text = JSON.stringify({ running: running.slice(0, 1000), queued: [] });
    Atomics.add(counters, 2, 1);
    const { written } = encoder.encodeInto(text, list);
    Atomics.store(counters, 3, written);
    Atomics.add(counters, 2, 1);
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
