// STOP and CONT for one attempt (`mr kill -s STOP <cpid>`): the attempt's code calls pausePoint
// at its natural breaks (between slices of map input, between reduce groups and fetches), and
// waits there while its gate is shut. A paused attempt keeps its lease: its worker still beats.
const gates = new WeakMap<AbortSignal, PauseGate>();

export class PauseGate {
  paused = false;
  private waiters: (() => void)[] = [];

  set(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.wake();
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async wait(signal: AbortSignal): Promise<void> {
    while (this.paused && !signal.aborted) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/** The gate of the attempt with this cancellation signal (made on first use). */
export function gateFor(signal: AbortSignal): PauseGate {
  let gate = gates.get(signal);
  if (!gate) {
    const created = new PauseGate();
    signal.addEventListener('abort', () => created.wake(), { once: true }); // a cancelled attempt stops waiting
    gates.set(signal, (gate = created));
  }
  return gate;
}

export function isPaused(signal: AbortSignal): boolean {
  return gates.get(signal)?.paused ?? false;
}

/** Waits here while the attempt is paused. */
export async function pausePoint(signal: AbortSignal): Promise<void> {
  const gate = gates.get(signal);
  if (gate?.paused) await gate.wait(signal);
}
