// What a job's functions print during an attempt, with console.* or straight to
// process.stdout.write / process.stderr.write, is kept with that attempt (the last 64 KiB of it,
// behind a "... (truncated)" line when there was more; its tail travels with the attempt's
// report and `mr logs` shows it) instead of reaching the worker's own stdout and stderr. Several
// attempts at once in one process each keep their own: a write belongs to the attempt whose
// asynchronous context it is made in (AsyncLocalStorage). Writes made outside any attempt (a timer
// a job module set up when it loaded, one left running after its attempt ended) pass through.
// The worker's own log does not use these streams (log.ts writes to the file descriptor).
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import { OutputTail } from './output-tail.ts';

export const MAX_LOG_CHARS = 64 * 1024;

interface Capture {
  tail: OutputTail;
  open: boolean;
}

const current = new AsyncLocalStorage<Capture>();
let installed = false;

/** The capture of the attempt this code runs for, if it is still running. */
function capture(): Capture | undefined {
  const store = current.getStore();
  return store?.open ? store : undefined;
}

function chunkText(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === 'string') {
    return typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8' && Buffer.isEncoding(encoding)
      ? Buffer.from(chunk, encoding).toString('utf8') : chunk;
  }
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  return String(chunk);
}

function captureStream(stream: NodeJS.WriteStream): void {
  const original = stream.write;
  stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const into = capture();
    if (!into) return (original as (...args: unknown[]) => boolean).apply(this, [chunk, encoding, callback].slice(0, arguments.length));
    into.tail.append(chunkText(chunk, encoding));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  } as typeof stream.write;
}

function install(): void {
  if (installed) return;
  installed = true;
  captureStream(process.stdout);
  captureStream(process.stderr);
  // console.* write to those streams too; formatting here keeps a line whole when attempts interleave.
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const into = capture();
      if (into) into.tail.append(`${format(...args)}\n`);
      else original(...args);
    };
  }
}

/** Runs fn with its output captured; returns its result and the tail of what it printed. */
export async function withAttemptConsole<T>(fn: () => Promise<T>, maxChars = MAX_LOG_CHARS): Promise<{ value?: T; error?: unknown; log: string }> {
  install();
  const into: Capture = { tail: new OutputTail(maxChars), open: true };
  const log = (): string => {
    into.open = false;
    return into.tail.text();
  };
  try {
    const value = await current.run(into, fn);
    return { value, log: log() };
  } catch (error) {
    return { error, log: log() };
  }
}
