#!/usr/bin/env node
// The `mr` command. Runs the prebuilt engine bundle when it is up to date with src/ (see
// engine-bundle.mjs), and registers the loaders a job module needs (tsx, the `mr` resolver) only
// when a job is imported; else runs src/ itself through tsx, with those loaders registered first.
// MR_FROM_SOURCE=1 always runs src/.
import { freshBundleEntry } from './engine-bundle.mjs';
import { registerJobHooks, registerJobHooksOnDemand } from './job-hooks.mjs';

const bundle = process.env.MR_FROM_SOURCE ? undefined : freshBundleEntry();
if (bundle) {
  registerJobHooksOnDemand();
  await import(bundle);
} else {
  await registerJobHooks();
  await import('../src/cli/main.ts');
}
