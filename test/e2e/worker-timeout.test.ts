// mr run --worker-timeout-ms, through the real CLI: its own master gives up on a worker that went
// silent (stopped with SIGSTOP mid-task) after that long, and the task runs on the other worker;
// the default (src/config.ts DEFAULTS.workerTimeoutMs) is 10 s.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, readParts, recordsOf, removeDir, runMr, startMr, tempDir } from '../helpers/run-mr.ts';
import { alive } from '../helpers/processes.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
  for (const name of ['a', 'b']) await writeFile(join(dir, `${name}.txt`), `${name}\n`.repeat(200));
  // Each map marks its start with its process id, then takes 10 ms a line (2 s a map).
  await writeFile(join(dir, 'slow.ts'), [
    `import { writeFileSync } from 'node:fs';`,
    `import { defineJob } from 'mr';`,
    `let marked = false;`,
    `export default defineJob({`,
    `  map(line, emit, ctx) {`,
    `    if (!marked) { writeFileSync(ctx.options.markers + '/' + process.pid, ''); marked = true; }`,
    `    const until = performance.now() + 10;`,
    `    while (performance.now() < until) { /* busy */ }`,
    `    emit(line, 1);`,
    `  },`,
    `  reduce: (_key, values: number[]) => values.length,`,
    `});`,
  ].join('\n'));
});
afterAll(() => removeDir(dir));

async function until<T>(what: () => Promise<T | undefined>, ms: number): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const value = await what();
    if (value !== undefined) return value;
  }
  throw new Error('timed out');
}

describe('mr run --worker-timeout-ms', () => {
  it('a worker silent that long is given up and its task runs elsewhere, well before the 10 s default', async () => {
    const markers = join(dir, 'markers');
    await mkdir(markers);
    const out = join(dir, 'out');
    const child = startMr(['run', 'slow.ts', '--input', '*.txt', '--output', out, '--workers', '2', '--reducers', '1', '--worker-timeout-ms', '2500',
      '--no-speculation', '--task-timeout', '0', '--set', `markers=${markers}`, '--quiet'], { cwd: dir });
    const result = finished(child);
    let stopped: number | undefined;
    try {
      // both maps running, one on each worker: stop one of them mid-task
      const pids = await until(async () => {
        if (child.exitCode !== null) throw new Error(`mr run ended early: ${(await result).stderr}`);
        const names = await readdir(markers);
        return names.length >= 2 ? names.map(Number) : undefined;
      }, 20_000);
      stopped = pids[0]!;
      process.kill(stopped, 'SIGSTOP');
      const stoppedAt = Date.now();
      const r = await result;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // Given up after 2.5 s, and its map run again (2 s): about 6 s on 2 busy cores. With the
      // default 10 s, about 13 s. (Heartbeats come every second: a shorter timeout would give up
      // on the busy worker too, whose map holds its event loop for up to 8 lines at a time.)
      expect(Date.now() - stoppedAt).toBeLessThan(9500);
      expect(recordsOf(await readParts(out))).toEqual(new Map([['a', '200'], ['b', '200']]));
    } finally {
      if (stopped !== undefined && alive(stopped)) {
        process.kill(stopped, 'SIGCONT');
        process.kill(stopped, 'SIGKILL');
      }
      child.kill('SIGKILL');
    }
  });

  it('is the master\'s setting: refused with --master, and below 100 ms', async () => {
    const withMaster = await runMr(['run', 'slow.ts', '--input', '*.txt', '--output', join(dir, 'o2'), '--master', '127.0.0.1:1', '--worker-timeout-ms', '5000'], { cwd: dir });
    expect(withMaster.stderr).toBe('mr: --worker-timeout-ms is the master\'s setting; with --master 127.0.0.1:1, give it to that mr master instead\n');
    expect(withMaster.code).toBe(2);
    const tooShort = await runMr(['run', 'slow.ts', '--input', '*.txt', '--output', join(dir, 'o3'), '--worker-timeout-ms', '50'], { cwd: dir });
    expect(tooShort.stderr).toBe('mr: --worker-timeout-ms must be a whole number of milliseconds, at least 100\n');
    expect(tooShort.code).toBe(2);
  });
});
