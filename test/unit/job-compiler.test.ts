// A job compiled before is not compiled again while every file it read is unchanged, and is
// compiled again as soon as one changes: the job file or a file it imports.
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileJob } from '../../src/worker/job-compiler.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-job-compiler-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Writes a file dated a minute ago, older than the compile that reads it (a file changed just now is never trusted). */
async function writeOld(path: string, text: string, ageMs = 60_000): Promise<void> {
  await writeFile(path, text);
  const when = new Date(Date.now() - ageMs);
  await utimes(path, when, when);
}

describe('compileJob', () => {
  it('gives the same module for unchanged files, and a new one when the job or a file it imports changes', async () => {
    const job = join(dir, 'job.ts');
    const helper = join(dir, 'helper.ts');
    await writeOld(helper, 'export const word = "one";\n');
    await writeOld(job, 'import { word } from "./helper.ts";\nexport default { map: (l: string, emit: (k: string, v: number) => void) => emit(word + l, 1), reduce: () => 1 };\n');
    const first = await compileJob(job);
    expect(await compileJob(job)).toEqual(first);
    await writeOld(helper, 'export const word = "two";\n', 30_000);     // same size, another mtime
    const second = await compileJob(job);
    expect(second.hash).not.toBe(first.hash);
    expect(await compileJob(job)).toEqual(second);
    await writeOld(job, (await import('node:fs')).readFileSync(job, 'utf8').replace('emit(word + l, 1)', 'emit(l + word, 1)'), 20_000);
    expect((await compileJob(job)).hash).not.toBe(second.hash);
  });

  it('compiles a file changed just now again on the next run', async () => {
    const job = join(dir, 'fresh.ts');
    await writeFile(job, 'export default { map() {}, reduce: () => 1 };\n');
    const first = await compileJob(job);
    await writeFile(job, 'export default { map() {}, reduce: () => 2 };\n');   // within the same second: size equal, mtime maybe too
    expect((await compileJob(job)).hash).not.toBe(first.hash);
  });
});
