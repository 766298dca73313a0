#!/usr/bin/env node
// The `mr` command. Runs the prebuilt engine bundle when it is up to date with src/ (see
// engine-bundle.mjs), with no loader hooks (job modules are compiled before they are imported);
// else runs src/ itself through tsx. MR_FROM_SOURCE=1 always runs src/.
import module from 'node:module';
import { spawnEarlyWorkers } from './early-workers.mjs';
import { freshBundleEntry } from './engine-bundle.mjs';
import { registerJobHooks } from './job-hooks.mjs';

// Node 22.1 and later keep the compiled code of the modules loaded here (the engine, grpc-js,
// protobufjs) on disk, so that every later mr process, and every worker it starts, skips most of
// compiling them: module loading is most of a process's start-up. Node 20 has no such cache.
module.enableCompileCache?.();

spawnEarlyWorkers(process.argv.slice(2)); // mr run's workers load while the engine does

const bundle = process.env.MR_FROM_SOURCE ? undefined : freshBundleEntry();
if (bundle) {
  await import(bundle);
} else {
  await registerJobHooks();
  await import('../src/cli/main.ts');
}
