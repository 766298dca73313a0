// One suite, every registered backend: the same jobs must give byte-identical output on each.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, transportNames } from '../../src/backends/index.ts';
import { BOOKS, FIXTURES, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceIndex, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

/** The first backend's output of each case, which every other backend must match byte for byte. */
const firstOutputs = new Map<string, { name: string; text: string }[]>();

async function expectSameAsOtherBackends(caseName: string, out: string): Promise<void> {
  const parts = await readParts(out);
  const first = firstOutputs.get(caseName);
  if (first) expect(parts).toEqual(first);
  else firstOutputs.set(caseName, parts);
}

describe.each(transportNames())('the %s backend', (transport) => {
  // A simulated machine runs one worker per node, so it is scaled by --nodes, not --workers.
  const scale = createTransport(transport)!.machine ? ['--nodes', '4'] : ['--workers', '2'];
  const run = (name: string, args: string[]) => runMr(['run', ...args, '--output', join(dir, `${transport}-${name}`), '--transport', transport, ...scale, '--quiet']);

  it.each([1, 3, 10])('counts words with %i reducers', async (reducers) => {
    const r = await run(`wc-${reducers}`, ['jobs/wordcount.ts', '--input', BOOKS, '--reducers', String(reducers)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = join(dir, `${transport}-wc-${reducers}`);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    await expectSameAsOtherBackends(`wc-${reducers}`, out);
  });

  it('counts words with its own string functions (the generic path) to the same bytes as with the built-ins', async () => {
    const r = await run('wc-strings', ['jobs/wordcount-strings.ts', '--input', BOOKS, '--reducers', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readParts(join(dir, `${transport}-wc-strings`))).toEqual(await readParts(join(dir, `${transport}-wc-3`)));
  });

  it('indexes the books', async () => {
    const r = await run('index', ['jobs/indexer.ts', '--input', BOOKS, '--reducers', '4']);
    expect(r.code).toBe(0);
    const out = join(dir, `${transport}-index`);
    expect(recordsOf(await readParts(out))).toEqual(referenceIndex(inputFiles(BOOKS)));
    await expectSameAsOtherBackends('index', out);
  });

  it('runs a chain into one combined list', async () => {
    const r = await run('chain', ['jobs/wordcount.ts', 'jobs/combine.ts', '--input', BOOKS]);
    expect(r.code).toBe(0);
    const out = join(dir, `${transport}-chain`);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    await expectSameAsOtherBackends('chain', out);
  });

  it('fails a job that throws, naming the error, with no output', async () => {
    const r = await run('throws', [join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Holmes allowed/);
    await expect(readdir(join(dir, `${transport}-throws`))).rejects.toThrow(/ENOENT/); // mr run made it, and removed it
  });

  it('gives one empty file per reducer for an empty input', async () => {
    const empty = join(dir, `${transport}-empty.txt`);
    await writeFile(empty, '');
    const r = await run('empty', ['jobs/wordcount.ts', '--input', empty, '--reducers', '3']);
    expect(r.code).toBe(0);
    const out = join(dir, `${transport}-empty`);
    expect((await readParts(out)).map((p) => p.text)).toEqual(['', '', '']);
    await expectSameAsOtherBackends('empty', out);
  });

  it("reports the backend's own figures under backend in --json", async () => {
    const r = await run('json', ['jobs/wordcount.ts', '--input', BOOKS, '--json']);
    expect(r.code).toBe(0);
    const { backend } = JSON.parse(r.stdout);
    expect(backend.name).toBe(transport);
    expect(backend.nodes).toBeGreaterThan(0);
    expect(backend.messages).toBeGreaterThan(0);
    expect(backend.bytes).toBeGreaterThan(0);
  });
});
