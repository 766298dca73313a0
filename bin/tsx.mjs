#!/usr/bin/env node
// Runs a TypeScript script of this repository (bench/, datasets/) with the same loaders as `mr`.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { registerJobHooks } from './job-hooks.mjs';

await registerJobHooks();
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node bin/tsx.mjs <script.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(script), ...args];
await import(pathToFileURL(resolve(script)).href);
