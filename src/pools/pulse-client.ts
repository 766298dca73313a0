// Loaded by the worker's liveness thread (stall-watchdog.ts), only once a job function has held
// the worker's event loop past a heartbeat interval: a master client of the worker's own backend,
// made in that thread, that says "alive, busy" for the worker (a heartbeat marked busy).
import { createTransport } from '../backends/index.ts';
import type { PulseRecipe } from '../worker/stall-watchdog.ts';


/** Returns the call that sends one busy heartbeat for the given running attempts. */
export function connectPulse(recipe: PulseRecipe): (runningAttempts: string[]) => Promise<void> {
  const { cert, key, ca } = recipe.tls ?? {};
  const tls = cert && key && ca ? { cert: Buffer.from(cert), key: Buffer.from(key), ca: Buffer.from(ca) } : undefined;
  const transport = createTransport(recipe.transport, { token: recipe.token, tls });
  if (!transport) throw new Error(`no backend ${recipe.transport}`);
  const master = transport.connectMaster(recipe.masterAddress);
  return async (runningAttempts) => {
    await master.heartbeat({ workerId: recipe.workerId, runningAttempts, stats: null, progress: [], busy: true });
  };
}
