// The hypercube backend through the real CLI: every message of the job crosses the links hop by
// hop, and the report is what crossed them: exact hop counts of the all-to-all shuffle, the
// bisection, the two switching models of the iPSC presets, chaos's losses as retransmissions;
// and clear errors for options that do not fit the machine.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, ROOT, readParts, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let sixteen: string;
beforeAll(async () => {
  dir = await tempDir();
  // 16 inputs of 50 lines each: with --no-packing, one map task a file, map i on node i.
  const lines = (await readFile(join(ROOT, 'datasets', 'gutenberg', 'pg-frankenstein.txt'), 'utf8')).split('\n');
  await mkdir(join(dir, 'in16'));
  for (let i = 0; i < 16; i++) await writeFile(join(dir, 'in16', `f${String(i).padStart(2, '0')}.txt`), `${lines.slice(i * 50, i * 50 + 50).join('\n')}\n`);
  sixteen = join(dir, 'in16', '*.txt');
}, 30_000);
afterAll(() => removeDir(dir));

const hypercube = (name: string, extra: string[], input = BOOKS) =>
  runMr(['run', 'jobs/wordcount.ts', '--input', input, '--output', join(dir, name), '--transport', 'hypercube', '--quiet', ...extra]);
const allToAll = (name: string, extra: string[] = []) => hypercube(name, ['--nodes', '16', '--reducers', '16', '--no-packing', '--json', ...extra], sixteen);
const backendOf = (r: { stdout: string }) => JSON.parse(r.stdout).backend;

describe('the hypercube backend', () => {
  it('carries an all-to-all shuffle on 16 nodes hop by hop: 2 hops a (map, reducer) pair, 32/15 a fetch, 8 links across the bisection', async () => {
    const r = await allToAll('a2a');
    expect(r.code).toBe(0);
    const b = backendOf(r);
    expect(b).toMatchObject({ name: 'hypercube', nodes: 16, dimensions: 4, maxHops: 4, bisectionLinks: 8, retransmissions: 0, refused: 0 });
    // 16 maps x 16 reducers; a reducer reads the output of the map on its own node where it lies.
    expect(b.shuffle).toMatchObject({ pairs: 256, fetches: 240, pairMeanHops: 2, fetchMeanHops: 2.133 });
    expect(b.forwarded).toBeGreaterThan(0);
    expect(b.control.messages).toBeGreaterThan(0);
    expect(b.messages).toBe(b.control.messages + b.shuffle.messages);
    // Links join neighbours only, and the hottest is one of them.
    for (const link of b.links) expect([1, 2, 4, 8]).toContain(link.from ^ link.to);
    const hottest = b.links.reduce((x: { bytes: number }, y: { bytes: number }) => (y.bytes > x.bytes ? y : x));
    expect(b.hottestLink).toEqual({ from: hottest.from, to: hottest.to, bytes: hottest.bytes });
    const memory = await runMr(['run', 'jobs/wordcount.ts', '--input', sixteen, '--output', join(dir, 'a2a-memory'), '--transport', 'memory', '--reducers', '16', '--quiet']);
    expect(memory.code).toBe(0);
    expect(await readParts(join(dir, 'a2a'))).toEqual(await readParts(join(dir, 'a2a-memory')));
  });

  it('times the same shuffle on the iPSC/1 (store-and-forward) and the iPSC/2 (circuit switched): between 3x and 20x apart', async () => {
    const [one, two] = [backendOf(await allToAll('ipsc1', ['--preset', 'ipsc1'])), backendOf(await allToAll('ipsc2', ['--preset', 'ipsc2']))];
    expect(one).toMatchObject({ preset: 'ipsc1', switching: 'store-and-forward' });
    expect(two).toMatchObject({ preset: 'ipsc2', switching: 'circuit', model: { linkLatencyUs: 350, linkMbPerSec: 2.8 } });
    const ratio = one.shuffle.simulatedMs / two.shuffle.simulatedMs;
    expect(ratio).toBeGreaterThanOrEqual(3);
    expect(ratio).toBeLessThanOrEqual(20);
    expect(one.simulatedMs).toBeGreaterThan(two.simulatedMs);
  });

  it('gives the same times run after run: the end of the job, the shuffle, the busy time of every link, to the last digit', async () => {
    const runs = [];
    for (const k of [1, 2, 3]) {
      // The iPSC/2's slow links make the shuffle's messages queue behind one another: the order
      // they cross in shows in the times.
      const r = await hypercube(`again-${k}`, ['--nodes', '8', '--preset', 'ipsc2', '--json']);
      expect(r.code).toBe(0);
      runs.push(backendOf(r));
    }
    // Heartbeats follow real seconds: they are counted, outside the clock; everything else is the same.
    const timed = (b: { simulatedMs: number; shuffle: object; linkBusyMs: object; links: { busyMs: number; shuffleBytes: number }[] }) =>
      ({ simulatedMs: b.simulatedMs, shuffle: b.shuffle, linkBusyMs: b.linkBusyMs, links: b.links.map((l) => [l.busyMs, l.shuffleBytes]) });
    expect(runs[0].linkBusyMs.max).toBeGreaterThan(0);
    for (const b of runs.slice(1)) expect(timed(b)).toEqual(timed(runs[0]));
  }, 60_000);

  it('shows chaos losses as retransmissions, and the output stays the same', async () => {
    const r = await allToAll('chaos', ['--chaos', 'drop=0.2', '--chaos-seed', '7']);
    expect(r.code).toBe(0);
    const b = backendOf(r);
    expect(b.retransmissions).toBeGreaterThan(0);
    expect(b.shuffle.fetches).toBeGreaterThan(240);
    expect(await readParts(join(dir, 'chaos'))).toEqual(await readParts(join(dir, 'a2a')));
  });

  it('a node cut off stops the traffic routed through it: node 3 reaches the master only through node 2', async () => {
    // e-cube on 4 nodes: 3 -> 2 -> 0. While node 2 is cut off, node 3's requests are refused at
    // node 3's own router (its link to node 2 is down) and retried; the job still ends right.
    const r = await hypercube('cut', ['--nodes', '4', '--reducers', '4', '--no-packing', '--json', '--chaos', 'partition=worker-2@0s-3s'], sixteen);
    expect(r.code, r.stderr).toBe(0);
    const b = backendOf(r);
    expect(b.refused).toBeGreaterThan(0);
    const memory = await runMr(['run', 'jobs/wordcount.ts', '--input', sixteen, '--output', join(dir, 'cut-memory'), '--transport', 'memory', '--reducers', '4', '--quiet']);
    expect(memory.code).toBe(0);
    expect(await readParts(join(dir, 'cut'))).toEqual(await readParts(join(dir, 'cut-memory')));
  });

  it('prints the figures with --report, and a faster network gives a shorter simulated time', async () => {
    const slow = await hypercube('slow', ['--nodes', '4', '--report', '--link-mb-per-s', '1', '--json']);
    const fast = await hypercube('fast', ['--nodes', '4', '--link-mb-per-s', '10000', '--json']);
    expect(slow.code).toBe(0);
    expect(slow.stderr).toMatch(/backend hypercube: 4 node\(s\)/);
    expect(slow.stderr).toMatch(/simulated time/);
    expect(backendOf(slow).simulatedMs).toBeGreaterThan(backendOf(fast).simulatedMs);
    expect(await readParts(join(dir, 'slow'))).toEqual(await readParts(join(dir, 'fast')));
  });

  it.each([
    [['--nodes', '6'], /--transport hypercube: .*power of two/],
    [['--nodes', '2048'], /--transport hypercube: .*power of two/],
    [['--nodes', '4', '--workers', '2'], /one worker per node: give --nodes 2/],
    [['--link-mb-per-s', '-1'], /--link-mb-per-s must be a positive number/],
    [['--preset', 'ipsc9'], /hypercube has no preset 'ipsc9': use one of ipsc1, ipsc2/],
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
