#!/usr/bin/env node
// The `mr` command: lets Node load TypeScript (ours and users' job modules) and
// resolve `import ... from 'mr'` from a job file anywhere on disk, then runs the CLI.
import { register } from 'node:module';
import { register as registerTypeScript } from 'tsx/esm/api';

registerTypeScript();
register('./resolve-mr.mjs', import.meta.url); // after tsx: hooks run last-registered first
await import('../src/cli/main.ts');
