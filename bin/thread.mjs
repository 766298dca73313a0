// Entry of every worker thread the engine starts: threads do not inherit the loader hooks of
// the main thread, so each registers tsx and the `mr` resolver itself, then imports
// workerData.entry (a file: URL of the TypeScript module to run).
import { workerData } from 'node:worker_threads';
import { registerJobHooks } from './job-hooks.mjs';

await registerJobHooks();
await import(workerData.entry);
