// The hypercube backend through the real CLI: the report's figures, their determinism, and
// clear errors for options that do not fit the machine.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, readParts, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

const hypercube = (name: string, extra: string[]) =>
  runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, name), '--transport', 'hypercube', '--quiet', ...extra]);

describe('the hypercube backend', () => {
  it('reports hops, links and bisection traffic, the same on every run', async () => {
    const [a, b] = [await hypercube('a', ['--nodes', '8', '--json']), await hypercube('b', ['--nodes', '8', '--json'])];
    expect(a.code).toBe(0);
    const first = JSON.parse(a.stdout).backend;
    expect(JSON.parse(b.stdout).backend).toEqual(first);
    expect(first).toMatchObject({ name: 'hypercube', nodes: 8, dimensions: 3, maxHops: 3 });
    expect(first.simulatedMs).toBeGreaterThan(0);
    expect(first.meanHops).toBeGreaterThan(0);
    expect(first.meanHops).toBeLessThanOrEqual(3);
    expect(first.bisectionBytes).toBeGreaterThan(0);
    const hottest = first.links.reduce((x: { bytes: number }, y: { bytes: number }) => (y.bytes > x.bytes ? y : x));
    expect(first.hottestLink).toEqual({ from: hottest.from, to: hottest.to, bytes: hottest.bytes });
    // Links join neighbours only.
    for (const link of first.links) expect([1, 2, 4]).toContain(link.from ^ link.to);
    expect(await readParts(join(dir, 'b'))).toEqual(await readParts(join(dir, 'a')));
  });

  it('prints the figures with --report, and a faster network gives a shorter simulated time', async () => {
    const slow = await hypercube('slow', ['--nodes', '4', '--report', '--link-mb-per-s', '1', '--json']);
    const fast = await hypercube('fast', ['--nodes', '4', '--link-mb-per-s', '10000', '--json']);
    expect(slow.code).toBe(0);
    expect(slow.stderr).toMatch(/backend hypercube: 4 node\(s\)/);
    expect(slow.stderr).toMatch(/simulated time/);
    expect(JSON.parse(slow.stdout).backend.simulatedMs).toBeGreaterThan(JSON.parse(fast.stdout).backend.simulatedMs);
  });

  it.each([
    [['--nodes', '6'], /--transport hypercube: .*power of two/],
    [['--nodes', '2048'], /--transport hypercube: .*power of two/],
    [['--nodes', '4', '--workers', '2'], /one worker per node: give --nodes 2/],
    [['--link-mb-per-s', '-1'], /--link-mb-per-s must be a positive number/],
  ])('rejects %j with one clear line', async (extra, message) => {
    const r = await hypercube(`bad-${extra.join('')}`, extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses --nodes on a backend that is not a simulated machine', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'grpc'), '--nodes', '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/applies to the simulated backends/);
  });
});
