#!/usr/bin/env node
// Installs the dependencies when they are missing, so `npm start` and `npm test` work on a
// fresh clone as the first command. Uses only Node built-ins: nothing is installed yet.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const wanted = Object.keys({ ...pkg.dependencies, ...(process.env.npm_lifecycle_event === 'pretest' ? pkg.devDependencies : {}) });
const missing = wanted.filter((name) => !existsSync(join(root, 'node_modules', name, 'package.json')));

if (missing.length > 0) {
  const command = existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install';
  process.stderr.write(`mr: installing dependencies (npm ${command}; missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''})\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, [command, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`mr: npm ${command} failed (exit ${result.status}); run it by hand in ${root} and look at its errors\n`);
    process.exit(1);
  }
}
