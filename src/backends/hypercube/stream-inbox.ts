// A stream's chunks as they reach its caller, and the wait for them: a silence too long is a
// broken stream (a chunk lost on the way, a node gone).
import { TransportUnavailableError } from '../../errors.ts';
import type { MessageId } from './timeline.ts';

/** Waits until waiter.wake() is called (true), or ms pass (false). */
export async function wokenWithin(waiter: { wake?: () => void }, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const woken = await new Promise<boolean>((resolve) => {
    waiter.wake = () => resolve(true);
    timer = setTimeout(() => resolve(false), ms);
  });
  clearTimeout(timer);
  waiter.wake = undefined;
  return woken;
}

/** A stream's chunks as they arrive, for the caller's `for await`. */
export class Inbox {
  private readonly chunks: { payload: Uint8Array; id: MessageId }[] = [];
  private done = false;
  private error?: Error;
  wake?: () => void;   // set while read() waits (wokenWithin)

  push(chunk: { payload: Uint8Array; id: MessageId }): void {
    this.chunks.push(chunk);
    this.wake?.();
  }

  end(error?: Error): void {
    this.done = true;
    this.error = error;
    this.wake?.();
  }

  /** The chunks until the end; a silence of idleMs (a chunk lost on the way, a node gone) is an unavailable node. */
  async *read(idleMs: number, what: string): AsyncGenerator<{ payload: Uint8Array; id: MessageId }> {
    for (;;) {
      if (this.chunks.length > 0) {
        yield this.chunks.shift()!;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      if (!(await wokenWithin(this, idleMs))) throw new TransportUnavailableError(`hypercube: ${what} heard nothing for ${idleMs / 1000} s`);
    }
  }
}
