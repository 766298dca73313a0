// The butterfly backend through the real CLI: map outputs in memory modules read in place,
// spilled to disk when a module is too small, and the switch model's report.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

const butterfly = (name: string, extra: string[]) =>
  runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, name), '--transport', 'butterfly', '--quiet', ...extra]);

describe('the butterfly backend', () => {
  it('keeps map outputs in the modules, reads them through the switch, and reports the same figures every run', async () => {
    const [a, b] = [await butterfly('a', ['--nodes', '4', '--json']), await butterfly('b', ['--nodes', '4', '--json'])];
    expect(a.code).toBe(0);
    const summary = JSON.parse(a.stdout);
    const first = summary.backend;
    expect(JSON.parse(b.stdout).backend).toEqual(first);
    expect(first).toMatchObject({ name: 'butterfly', nodes: 4, stages: 2, spilledBytes: 0 });
    expect(first.simulatedMs).toBeGreaterThan(0);
    expect(first.localBytes).toBeGreaterThan(0);
    expect(first.remoteBytes).toBeGreaterThan(0);
    expect(first.switchConflicts).toHaveLength(2);
    expect(first.bytes).toBe(first.localBytes + first.remoteBytes);
    const counters = summary.stages[0].counters;
    expect(counters['shuffle.bytes'] ?? 0).toBe(0); // nothing went over a network
    expect(counters['butterfly.moduleBytes']).toBeGreaterThan(0);
    expect(recordsOf(await readParts(join(dir, 'a')))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });

  it('spills partitions that do not fit in a module to disk and still gives the right output', async () => {
    const r = await butterfly('spill', ['--nodes', '2', '--module-mib', '0.01', '--json', '--report']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.backend.spilledBytes).toBeGreaterThan(0);
    expect(summary.stages[0].counters['butterfly.spilledPartitions']).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/backend butterfly: 2 node\(s\)/);
    expect(r.stderr).toMatch(/switchConflicts: +\d+ - accesses refused by a busy switch, per stage\n/);
    expect(recordsOf(await readParts(join(dir, 'spill')))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  });

  it.each([
    [['--nodes', '3'], /--transport butterfly: .*power-of-two/],
    [['--nodes', '128'], /at most 64 processors/],
    [['--module-mib', '0.001'], /at least 4 KiB/],
  ])('rejects %j with one clear line', async (extra, message) => {
    const r = await butterfly(`bad-${extra.join('')}`, extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
