// Entry of every worker thread the engine starts: threads do not inherit the loader hooks of
// the main thread, so each registers tsx and the `mr` resolver itself, then imports
// workerData.entry (a file: URL of the TypeScript module to run).
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
import { register as registerTypeScript } from 'tsx/esm/api';

registerTypeScript();
register('./resolve-mr.mjs', import.meta.url);
await import(workerData.entry);
