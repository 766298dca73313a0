// `npm run bench` in miniature: every section of the standard benchmark on 1 MiB corpora and a
// handful of tiny files, through the real CLI; the four result files and what they hold.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, ROOT, tempDir, type MrResult } from '../helpers/run-mr.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('mr-standard-bench-');
});
afterAll(() => removeDir(dir));

function runBench(args: string[]): Promise<MrResult> {
  // Its own corpus cache, so the test neither needs nor disturbs the real one.
  const env = { ...process.env, MR_BENCH_CACHE: join(dir, 'cache') };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'tsx.mjs'), join(ROOT, 'bench', 'standard.ts'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('npm run bench', () => {
  it('runs every section small and writes latest.json, .md, .svg and .png', async () => {
    const out = join(dir, 'results');
    const r = await runBench(['--sweep-mib', '1', '--transports', 'grpc', '--workers', '1,2', '--machines', '', '--scaling-mib', '1,4', '--scaling-workers', '1',
      '--startup-repeat', '1', '--tiny-files', '10', '--memory-mib', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[bench\] sweep: grpc x2 #1: [\d.]+ s/);
    expect(r.stderr).toMatch(/\[bench\] scaling: 1 MiB, grpc x1: taken from the sweep/);
    const summary = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'));
    expect(summary.problems).toEqual([]);
    expect(summary.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
    const { sweep, baselines, wordcount, scaling, startup, scheduling, memory } = summary.sections;
    expect(sweep).toMatchObject({ identical: true, matchesSequential: true });
    for (const run of sweep.runs) expect(run.phases).toEqual(expect.objectContaining({ mapWallMs: expect.any(Number), shuffleMs: expect.any(Number), commitMs: expect.any(Number) }));
    expect(baselines.runs.map((b: { run: string }) => b.run)).toEqual(['sequential loop', 'byte floor, 1 thread', 'byte floor, 2 threads', 'shell pipeline']);
    // The word count: the realistic corpus, then the large one; the sweep's and baselines' runs of the
    // same corpus are reused, the large corpus runs everything itself; every output checked.
    expect(wordcount.corpora.map((c: { vocab: string; corpus: { path: string } }) => [c.vocab, c.corpus.path.endsWith('-large.txt')])).toEqual([['realistic', false], ['large', true]]);
    const runNames = ['plain loop, wordcount.ts', 'plain loop, wordcount-strings.ts', 'byte floor, 1 thread', 'byte floor, 2 threads', 'shell pipeline',
      'mr run wordcount.ts', 'mr run wordcount.ts', 'mr run wordcount-strings.ts', 'mr run wordcount-strings.ts'];
    for (const [i, c] of wordcount.corpora.entries()) {
      expect(c.loopsAgree).toBe(true);
      expect(c.runs.map((r: { run: string }) => r.run)).toEqual(runNames);
      expect(c.runs.map((r: { reusedFrom?: string }) => r.reusedFrom ?? null)).toEqual(
        i === 0 ? [null, null, 'baselines', 'baselines', 'baselines', 'sweep', 'sweep', null, null] : Array(9).fill(null));
      for (const r of c.runs) expect(r).toMatchObject({ ok: true, seconds: expect.any(Number), mbPerSecond: expect.any(Number), peakRssKiB: expect.any(Number) });
      for (const r of c.runs.filter((x: { run: string }) => x.run.startsWith('mr run'))) {
        expect(r).toMatchObject({ outputMatches: true, engineMs: expect.any(Number), mapPhaseMs: expect.any(Number), reducePhaseMs: expect.any(Number) });
      }
      for (const ratio of Object.values(c.ratios)) expect(ratio).toEqual(expect.any(Number));
    }
    expect(r.stderr).toMatch(/\[bench\] wordcount, large: mr run wordcount-strings\.ts x2: [\d.]+ s/);
    expect(summary.targets.find((t: { id: string }) => t.id === 'generic-ratio').measured).toMatch(/^[\d.]+x \(realistic, 1 MiB\)$/);
    expect(scaling.ratios).toEqual([expect.objectContaining({ workers: 1, fromMib: 1, toMib: 4 })]);
    expect(startup.medianWallMs).toBeGreaterThan(startup.medianEngineMs);
    expect(scheduling).toMatchObject({ ok: true, files: 10, mapTasks: 10, reduceTasks: 4 });   // --no-packing: one task a file
    expect(scheduling.packedMapTasks).toBeLessThan(10);
    expect(scheduling.smallFilesRatio).toEqual(expect.any(Number));
    expect(memory.processes.map((p: { role: string }) => p.role).sort()).toEqual(['master', 'worker', 'worker']);
    expect(summary.targets).toHaveLength(10);
    for (const target of summary.targets) expect(typeof target.met).toBe('boolean');
    const md = await readFile(join(out, 'latest.md'), 'utf8');
    expect(md).toContain('| target | goal | measured | verdict |');
    expect(md).toContain('| backend | workers | map wall s | reduce wall s | map task s | shuffle task s | reduce task s | commit task s |');
    expect(r.stdout).toContain('## Scheduling throughput');
    expect(md).toContain('## Word count, large vocabulary, 1 MiB corpus');
    expect(md).toContain('## Word count ratios');
    expect(await readFile(join(out, 'latest.svg'), 'utf8')).toMatch(/^<svg/);
    expect((await readFile(join(out, 'latest.png'))).subarray(1, 4).toString()).toBe('PNG');
  });
});
