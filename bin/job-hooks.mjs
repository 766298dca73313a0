// The loader hooks a job module needs: tsx (jobs may be TypeScript) and the `mr` resolver
// (`import ... from 'mr'` from a job file anywhere on disk). Registering them starts Node's
// loader-hooks thread, and every module imported afterwards takes a round trip through it, so a
// process running the prebuilt engine bundle registers them only when it first imports a job.
import { register } from 'node:module';

let onDemand = false; // false: registered up front (bin/tsx.mjs, bin/thread.mjs), or the host's own (vitest)
let registered;

/** Registers tsx and the `mr` resolver, once. */
export function registerJobHooks() {
  registered ??= (async () => {
    const { register: registerTypeScript } = await import('tsx/esm/api');
    registerTypeScript();
    register('./resolve-mr.mjs', import.meta.url); // after tsx: hooks run last-registered first
  })();
  return registered;
}

/** bin/mr.mjs running the engine bundle: the hooks are registered before the first job import. */
export function registerJobHooksOnDemand() {
  onDemand = true;
}

/** Called by the job loader before it imports a job module. */
export async function beforeJobImport() {
  if (onDemand) await registerJobHooks();
}
