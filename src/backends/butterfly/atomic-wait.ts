// Waiting on a shared Int32 word without blocking the event loop, for the butterfly's
// shared-memory channels: Atomics.waitAsync, plus a timer so the wait keeps the thread alive.

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsync = (words: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;

// Node 20 has Atomics.waitAsync, but the ES2022 lib this project compiles against does not declare it.
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync.bind(Atomics);

/** The longest a wait lasts before the caller re-checks its condition: a safety net, not a poll. */
export const WAIT_SAFETY_MS = 1000;

/**
 * Resolves once words[index] may differ from expected: at once if it already does, else on a
 * notify, or after timeoutMs at most. Callers read `expected` BEFORE checking their condition,
 * so a change made between the check and this call is never missed (the wait returns at once).
 * A pending Atomics.waitAsync does not keep Node's event loop alive (a thread awaiting a frame
 * would just exit), so a ref'd timer of the same length runs beside it, as a socket read would.
 */
export function waitWhileEqual(words: Int32Array, index: number, expected: number, timeoutMs = WAIT_SAFETY_MS): Promise<void> {
  const result = waitAsync(words, index, expected, timeoutMs);
  if (!result.async) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void result.value.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * As waitWhileEqual, but nothing keeps the event loop alive for it: for a waiter (the master's
 * board keeper) that must not hold its process open once everything else is done.
 */
export function waitUnreffed(words: Int32Array, index: number, expected: number, timeoutMs = WAIT_SAFETY_MS): Promise<void> {
  const result = waitAsync(words, index, expected, timeoutMs);
  return result.async ? result.value.then(() => undefined) : Promise.resolve();
}
