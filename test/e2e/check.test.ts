// Types for users' jobs through the real tools: `mr check` on job files outside the repository
// (no package.json, no node_modules beside them), and a user's own tsc on a job in a folder that
// has the package installed (a link to it, as `npm link` or `npm install <path>` makes).
import { spawn } from 'node:child_process';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, removeDir, runMr, tempDir, type MrResult } from '../helpers/run-mr.ts';

const WRONG = `import { defineJob } from 'mr';
export default defineJob<number, number>({
  map(line, emit) {
    emit(line, 'one');
  },
  reduce: (_key, values) => values.reduce((a, b) => a + b, 0),
});
`;
const RIGHT = WRONG.replace("'one'", '1');

let dir: string;
beforeAll(async () => {
  dir = await tempDir('mr-check-');
  await writeFile(join(dir, 'wrong.ts'), WRONG);
  await writeFile(join(dir, 'right.ts'), RIGHT);
  await writeFile(join(dir, 'no-reduce.ts'), "export default { map() {} };\n");
  await writeFile(join(dir, 'in.txt'), 'a b\n');
});
afterAll(() => removeDir(dir));

describe('mr check', () => {
  it('a map that emits a string in a defineJob<number, number> job: exit 1, a line naming file, line and column', async () => {
    const result = await runMr(['check', 'wrong.ts'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("wrong.ts:4:16: Argument of type 'string' is not assignable to parameter of type 'number'.\n");
    expect(result.stderr).toBe('mr: 1 type error(s) in 1 job file(s)\n');
  });

  it('a correct job: exit 0', async () => {
    const result = await runMr(['check', join(dir, 'right.ts')], { cwd: dir });
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('a missing file, or one that is not a job: exit 2 with one line', async () => {
    const missing = await runMr(['check', 'right.ts', 'nothere.ts'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`mr: job module ${join(dir, 'nothere.ts')} not found; give the path of a .ts or .js job file\n`);
    const notJob = await runMr(['check', 'no-reduce.ts'], { cwd: dir });
    expect(notJob.code).toBe(2);
    expect(notJob.stderr).toMatch(/^mr: job module .*no-reduce\.ts is not a job: its default export has no reduce function\n$/);
  });

  it('every shipped job passes', async () => {
    const jobs = (await readdir(join(ROOT, 'jobs'))).filter((name) => name.endsWith('.ts')).map((name) => join('jobs', name));
    const result = await runMr(['check', ...jobs]);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });
});

describe("a user's tsc, with the package installed beside the job", () => {
  let project: string;
  beforeAll(async () => {
    expect((await node([join(ROOT, 'bin', 'build-types.mjs')], ROOT)).code).toBe(0);
    project = join(dir, 'project');
    await mkdir(join(project, 'node_modules'), { recursive: true });
    await symlink(ROOT, join(project, 'node_modules', 'mr'), 'dir');
    await writeFile(join(project, 'wrong.ts'), WRONG);
    await writeFile(join(project, 'right.ts'), RIGHT);
  });

  for (const resolution of [['--module', 'nodenext', '--moduleResolution', 'nodenext'], ['--module', 'esnext', '--moduleResolution', 'bundler']]) {
    it(`finds the declarations (${resolution[3]}) and rejects the string`, async () => {
      const tsc = (file: string) => node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--target', 'es2022', ...resolution, file], project);
      const right = await tsc('right.ts');
      expect(right.stdout).toBe('');
      expect(right.code).toBe(0);
      const wrong = await tsc('wrong.ts');
      expect(wrong.code).not.toBe(0);
      expect(wrong.stdout).toContain("wrong.ts(4,16): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.");
      expect(wrong.stdout).not.toContain("Cannot find module 'mr'");
    });
  }
});

function node(args: string[], cwd: string): Promise<MrResult> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
}

describe('mr run --typecheck', () => {
  it('a type error: its line on stderr, exit 2, no output directory', async () => {
    const out = join(dir, 'typecheck-out');
    const result = await runMr(['run', 'wrong.ts', '--typecheck', '--input', 'in.txt', '--output', out, '--workers', '1'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("wrong.ts:4:16: Argument of type 'string' is not assignable to parameter of type 'number'.\n");
    expect(result.stderr).toContain('mr: --typecheck: 1 type error(s) in the job file(s); nothing was submitted\n');
    await expect(readdir(out)).rejects.toThrow();
  });

  it('a correct job runs', async () => {
    const result = await runMr(['run', 'right.ts', '--typecheck', '--input', 'in.txt', '--output', join(dir, 'typecheck-ok'), '--workers', '1', '--quiet'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
