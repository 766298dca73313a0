#!/usr/bin/env node
// The `mr` command. Runs the prebuilt engine bundle when it is up to date with src/ (see
// engine-bundle.mjs), with no loader hooks (job modules are compiled before they are imported);
// else runs src/ itself through tsx. MR_FROM_SOURCE=1 always runs src/.
import { spawnEarlyWorkers } from './early-workers.mjs';
import { freshBundleEntry } from './engine-bundle.mjs';
import { registerJobHooks } from './job-hooks.mjs';

spawnEarlyWorkers(process.argv.slice(2)); // mr run's workers load while the engine does

const bundle = process.env.MR_FROM_SOURCE ? undefined : freshBundleEntry();
if (bundle) {
  await import(bundle);
} else {
  await registerJobHooks();
  await import('../src/cli/main.ts');
}
