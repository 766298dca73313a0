// `mr` from anywhere: the README's one-line global install, run in the clone into a temporary
// prefix (a link to the clone: no registry needed), gives an `mr` command that runs a job from
// another folder, whose job file imports the package as 'mr' or by its npm name.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, readParts, removeDir, tempDir, type MrResult } from '../helpers/run-mr.ts';

let dir: string;
let prefix: string;
let pkg: { name: string; version: string; bin: Record<string, string> };
beforeAll(async () => {
  dir = await tempDir('mr-elsewhere-');
  prefix = join(dir, 'prefix');
  pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as typeof pkg;
  await writeFile(join(dir, 'in.txt'), 'The cat saw the dog\n');
});
afterAll(() => removeDir(dir));

function run(command: string, args: string[], cwd: string): Promise<MrResult> {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
}

describe('mr from anywhere', () => {
  it('the package has a name of its own on npm (an unrelated package is called mr)', () => {
    expect(pkg.name).toBe('mr-mapreduce');
    expect(Object.keys(pkg.bin)).toEqual(['mr']);
  });

  it("the README's global install puts mr on the PATH, and it runs a job from another folder", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const line = /^npm install -g \.$/m.exec(readme)?.[0];
    expect(line).toBeDefined();
    const [npm, ...args] = line!.split(' ');
    // --prefix: the install goes to a temporary folder, not the machine's; no scripts, no registry
    const installed = await run(npm, [...args, '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], ROOT);
    expect(installed.stderr).not.toMatch(/ERR/);
    expect(installed.code).toBe(0);
    expect(existsSync(join(prefix, 'lib', 'node_modules', pkg.name))).toBe(true);
    const mr = join(prefix, 'bin', 'mr');

    const version = await run(mr, ['--version'], dir);
    expect(version.stdout).toBe(`mr ${pkg.version}\n`);
    expect(version.code).toBe(0);

    for (const specifier of ['mr', pkg.name]) {
      await writeFile(join(dir, `wc-${specifier}.ts`), `import { countWords, defineJob, sum } from '${specifier}';\nexport default defineJob({ map: countWords, combine: sum, reduce: sum, reducers: 1 });\n`);
      const out = join(dir, `out-${specifier}`);
      const result = await run(mr, ['run', `wc-${specifier}.ts`, '--input', 'in.txt', '--output', out, '--workers', '1', '--quiet'], dir);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect((await readParts(out)).map((p) => p.text)).toEqual(['cat\t1\ndog\t1\nsaw\t1\nthe\t2\n']);
      const checked = await run(mr, ['check', `wc-${specifier}.ts`], dir);
      expect(checked.stdout).toBe('');
      expect(checked.code).toBe(0);
    }
  });
});
