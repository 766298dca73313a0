// The loader hooks that running the engine from its TypeScript sources needs: tsx, and the `mr`
// resolver (`import ... from 'mr'`). Job modules need neither (they are compiled with esbuild
// before they are imported: src/worker/job-compiler.ts), so the prebuilt engine bundle runs
// without any loader hooks.
import { register } from 'node:module';

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
