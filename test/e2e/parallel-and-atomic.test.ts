// Map tasks run in parallel across workers and so do reduce tasks; an output file is never seen
// incomplete, and _SUCCESS never before every part file.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, FIXTURES, finished, readParts, removeDir, runMr, startMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let cluster: Cluster;
beforeAll(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir, 'cluster'), 2);
});
afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

interface Attempt { task: string; workerId: string; state: string; startedMs: number; endedMs: number }

/** Whether two attempts of the given kind, on different workers, ran at the same time. */
function overlapAcrossWorkers(attempts: Attempt[], kind: string): boolean {
  const ofKind = attempts.filter((a) => a.task.includes(`.${kind}-`) && a.state === 'succeeded');
  return ofKind.some((a) => ofKind.some((b) => a.workerId !== b.workerId && a.startedMs < b.endedMs && b.startedMs < a.endedMs));
}

describe('on two workers', () => {
  it('runs map attempts in parallel, and reduce attempts too; files appear only whole, _SUCCESS last', async () => {
    const out = join(dir, 'out');
    const child = startMr(['run', join(FIXTURES, 'slow-reduce.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address, '--reducers', '4', '--quiet']);
    const result = finished(child);
    const seen = new Map<string, Set<string>>();
    let successBeforeAllParts = false;
    let running = true;
    void result.then(() => (running = false));
    while (running) {
      const names = await readdir(out).catch(() => [] as string[]);
      const parts = names.filter((n) => /^part-r-\d{5}$/.test(n));
      if (names.includes('_SUCCESS') && parts.length < 4) successBeforeAllParts = true;
      for (const name of parts) {
        const text = await readFile(join(out, name), 'utf8').catch(() => undefined);
        if (text !== undefined) seen.set(name, (seen.get(name) ?? new Set()).add(text));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const r = await result;
    expect(r.code).toBe(0);
    expect(successBeforeAllParts).toBe(false);
    const final = new Map((await readParts(out)).map((p) => [p.name, p.text]));
    expect(seen.size).toBeGreaterThan(0);
    for (const [name, texts] of seen) expect([...texts]).toEqual([final.get(name)]); // never a partial file
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const { attempts } = JSON.parse((await runMr(['logs', jobId, '--json', '--master', cluster.address])).stdout);
    expect(overlapAcrossWorkers(attempts, 'map')).toBe(true);
    expect(overlapAcrossWorkers(attempts, 'reduce')).toBe(true);
  });
});
