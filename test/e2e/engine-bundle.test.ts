// The prebuilt engine bundle (bin/build-engine.mjs) and the sources through tsx run jobs alike,
// and a bundle is used only while nothing it was built from has changed.
import { spawnSync } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs launcher module without type declarations
import { freshBundleEntry } from '../../bin/engine-bundle.mjs';
import { ROOT, readParts, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await removeDir(dir);
});

describe('freshBundleEntry', () => {
  const past = new Date(Date.now() - 60_000);

  /** A source tree and a bundle built after it: the bundle is fresh until something changes. */
  async function layout(name: string) {
    const root = join(dir, name);
    const src = join(root, 'src');
    const bundle = join(root, 'bundle');
    const script = join(root, 'build.mjs');
    await mkdir(join(src, 'sub'), { recursive: true });
    await mkdir(bundle);
    for (const file of [join(src, 'a.ts'), join(src, 'sub', 'b.ts'), script]) await writeFile(file, '');
    for (const path of [join(src, 'a.ts'), join(src, 'sub', 'b.ts'), join(src, 'sub'), src, script]) await utimes(path, past, past);
    await writeFile(join(bundle, 'main-X.mjs'), '');
    await writeFile(join(bundle, 'chunk-Y.mjs'), '');
    await writeFile(join(bundle, 'stamp.json'), JSON.stringify({ startedMs: Date.now() - 1000, entry: 'main-X.mjs', files: ['main-X.mjs', 'chunk-Y.mjs'] }));
    const fresh = () => freshBundleEntry(bundle, src, [script]) as string | undefined;
    return { src, bundle, script, fresh };
  }

  it('names the entry of an up-to-date bundle', async () => {
    const { fresh } = await layout('fresh');
    expect(fresh()).toMatch(/\/bundle\/main-X\.mjs$/);
  });

  it('is undefined once a source changes, a file is added, or the build script changes', async () => {
    const edited = await layout('edited');
    await writeFile(join(edited.src, 'sub', 'b.ts'), 'export {};');
    expect(edited.fresh()).toBeUndefined();
    const added = await layout('added');
    await writeFile(join(added.src, 'sub', 'c.ts'), '');
    await utimes(join(added.src, 'sub', 'c.ts'), past, past); // only its folder tells
    expect(added.fresh()).toBeUndefined();
    const script = await layout('script');
    await writeFile(script.script, '// changed');
    expect(script.fresh()).toBeUndefined();
  });

  it('is undefined without a stamp or with a file of the build missing', async () => {
    const noStamp = await layout('no-stamp');
    await removeDir(join(noStamp.bundle, 'stamp.json'));
    expect(noStamp.fresh()).toBeUndefined();
    const noChunk = await layout('no-chunk');
    await removeDir(join(noChunk.bundle, 'chunk-Y.mjs'));
    expect(noChunk.fresh()).toBeUndefined();
  });
});

describe('mr from the bundle and from the sources', () => {
  it('builds the bundle', () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'bin', 'build-engine.mjs')], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status).toBe(0);
    expect(build.stderr).not.toContain('could not build'); // esbuild's warnings, if any, are no failure
  });

  it('runs a TypeScript job from outside the repository the same way', async () => {
    // No package.json beside it: it still loads as an ES module, imports 'mr' and a .ts helper.
    const jobs = join(dir, 'elsewhere');
    await mkdir(jobs);
    await writeFile(join(jobs, 'words.ts'), 'export const words = (line: string): string[] => line.split(/\\s+/).filter(Boolean);\n');
    await writeFile(join(jobs, 'job.ts'), [
      "import { defineJob, compareKeys } from 'mr';",
      "import { words } from './words.ts';",
      'export default defineJob<number, number>({',
      '  map(line: string, emit) { for (const word of words(line)) emit(word, 1); },',
      '  reduce: (_word: string, counts: number[]) => counts.reduce((a, b) => a + b, 0) + compareKeys("a", "a"),',
      '});',
      '',
    ].join('\n'));
    const input = join(dir, 'input.txt');
    await writeFile(input, 'to be or not to be\nthat is the question\n');
    const outputs: string[] = [];
    for (const env of [{}, { MR_FROM_SOURCE: '1' }]) {
      const out = join(dir, `out-${outputs.length}`);
      const r = await runMr(['run', join(jobs, 'job.ts'), '--input', input, '--output', out, '--reducers', '2', '--quiet'], { env, cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      outputs.push((await readParts(out)).map((part) => `${part.name}\n${part.text}`).join(''));
    }
    expect(outputs[0]).toContain('be\t2\n');
    expect(outputs[1]).toBe(outputs[0]);
  });

  it('prints the same help and usage errors', async () => {
    const results = [];
    for (const env of [{}, { MR_FROM_SOURCE: '1' }]) {
      results.push(await Promise.all([runMr(['--help'], { env }), runMr(['run', '--help'], { env }), runMr(['frob'], { env })]));
    }
    const [[help, runHelp, usage], [helpSrc, runHelpSrc, usageSrc]] = results;
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('mr worker');
    expect(runHelp.stdout).toContain('--output');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe("mr: unknown command 'frob' (see mr --help)\n");
    expect([helpSrc.stdout, runHelpSrc.stdout, usageSrc.stderr]).toEqual([help.stdout, runHelp.stdout, usage.stderr]);
  });
});
