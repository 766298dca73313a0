// What a job's functions print with console.* during an attempt is kept with that attempt
// (its tail travels with the attempt's report), even when several attempts run at once.
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';

const MAX_LOG_CHARS = 64 * 1024;
const current = new AsyncLocalStorage<string[]>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const lines = current.getStore();
      if (lines) lines.push(format(...args));
      else original(...args);
    };
  }
}

/** Runs fn with console output captured; returns its result and the tail of what it printed. */
export async function withAttemptConsole<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; log: string }> {
  install();
  const lines: string[] = [];
  const tail = (): string => {
    const text = lines.join('\n');
    return text.length > MAX_LOG_CHARS ? text.slice(-MAX_LOG_CHARS) : text;
  };
  try {
    return { value: await current.run(lines, fn), log: tail() };
  } catch (error) {
    return { error, log: tail() };
  }
}
