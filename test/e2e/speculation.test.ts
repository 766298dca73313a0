// Backup attempts for stragglers: on by default, off with --no-speculation; the output is the same.
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, FIXTURES, readParts, recordsOf, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

async function runStraggler(name: string, extra: string[]) {
  const markerDir = join(dir, `${name}-markers`);
  await mkdir(markerDir);
  const out = join(dir, name);
  const r = await runMr(['run', join(FIXTURES, 'straggler.ts'), '--input', BOOKS, '--output', out, '--workers', '3', '--reducers', '2',
    '--set', 'slowFile=pg-grimm.txt', '--set', `markerDir=${markerDir}`, '--json', '--quiet', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
  return JSON.parse(r.stdout).stages[0];
}

describe('stragglers', () => {
  it('get a backup attempt on an idle worker, and the output is unchanged', async () => {
    const stage = await runStraggler('speculative', []);
    expect(stage.backupAttempts).toBeGreaterThanOrEqual(1);
    expect(stage.mapAttempts).toBeGreaterThan(stage.mapTasks);
  });

  it('with --no-speculation, each map task runs exactly once', async () => {
    const stage = await runStraggler('no-speculation', ['--no-speculation']);
    expect(stage.backupAttempts).toBe(0);
    expect(stage.mapAttempts).toBe(stage.mapTasks);
    expect(stage.reduceAttempts).toBe(stage.reduceTasks);
  });
});
