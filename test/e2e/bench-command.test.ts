// `mr bench`: a small sweep through the real CLI: every run's figures, identical outputs, the
// table of medians with speedup against one worker.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

describe('mr bench', () => {
  it('sweeps backends and worker counts, checks the outputs agree, and writes JSON and Markdown', async () => {
    const out = join(dir, 'sweep');
    const r = await runMr(['bench', 'jobs/wordcount.ts', '--input', BOOKS, '--workers', '1,2', '--transport', 'grpc,memory', '--out', out]);
    expect(r.stderr).toMatch(/mr bench: grpc x1 #1: [\d.]+ s/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8'));
    expect(summary.identical).toBe(true);
    expect(summary.runs).toHaveLength(4);
    for (const run of summary.runs) {
      expect(run).toMatchObject({ ok: true, mapTasks: 8, reduceTasks: 4 });
      expect(run.wallMs).toBeGreaterThan(0);
      expect(run.backend.name).toBe(run.transport);
      expect(run.phases.mapWallMs).toBe(run.mapPhaseMs);
      for (const ms of Object.values(run.phases)) expect(ms).toBeGreaterThanOrEqual(0);
      expect(run.phases.mapMs).toBeGreaterThan(0);
    }
    expect(new Set(summary.runs.map((run: { outputHash: string }) => run.outputHash)).size).toBe(1);
    const grpc1 = summary.rows.find((row: { transport: string; workers: number }) => row.transport === 'grpc' && row.workers === 1);
    expect(grpc1.speedup).toBe(1);
    const md = await readFile(join(out, 'bench.md'), 'utf8');
    expect(md).toContain('| backend | workers | median s | MB/s | speedup | efficiency | runs | failed |');
    expect(md).toContain('| memory | 2 |');
    expect(md).toContain('| backend | workers | map wall s | reduce wall s | map task s | shuffle task s | reduce task s | commit task s |');
    expect(r.stdout).toContain('outputs identical across all runs');
    const svg = await readFile(join(out, 'speedup.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('grpc');
    expect(svg).toContain('ideal');
    const png = await readFile(join(out, 'speedup.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(5000);
  });

  it("shows a simulated machine's own figures for 2 to 16 nodes", async () => {
    const out = join(dir, 'machines');
    const r = await runMr(['bench', 'jobs/wordcount.ts', '--input', BOOKS, '--workers', '2,4,16', '--transport', 'hypercube', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8'));
    const hops = (nodes: number) => summary.rows.find((row: { workers: number }) => row.workers === nodes).machine;
    // More dimensions, longer routes: at most d hops, more of them relayed.
    expect(hops(2).maxHops).toBe(1);
    expect(hops(16).maxHops).toBe(4);
    expect(hops(16).meanHops).toBeGreaterThan(hops(2).meanHops);
    expect(hops(16).forwarded).toBeGreaterThan(0);
    const md = await readFile(join(out, 'bench.md'), 'utf8');
    expect(md).toMatch(/\| backend \| nodes \| simulatedMs \| messages \| meanHops \| maxHops \| forwarded \| bisectionBytes \|/);
    for (const nodes of [2, 4, 16]) expect(md).toMatch(new RegExp(`^\\| hypercube \\| ${nodes} \\| [\\d.]+ \\|`, 'm'));
  });

  it('rejects a bad sweep with one clear line', async () => {
    const r = await runMr(['bench', 'jobs/wordcount.ts', '--input', BOOKS, '--transport', 'nope', '--out', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/unknown --transport nope/)]);
  });
});
