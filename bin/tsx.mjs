#!/usr/bin/env node
// Runs a TypeScript script of this repository (bench/, datasets/) with the same loaders as `mr`.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { register as registerTypeScript } from 'tsx/esm/api';

registerTypeScript();
register('./resolve-mr.mjs', import.meta.url); // after tsx: hooks run last-registered first
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node bin/tsx.mjs <script.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(script), ...args];
await import(pathToFileURL(resolve(script)).href);
