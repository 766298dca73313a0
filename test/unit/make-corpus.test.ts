// Checks datasets/make-corpus.ts output is exact-size, newline-terminated and deterministic per seed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'make-corpus-'));

function generate(name: string, ...args: string[]): Buffer {
  const out = join(dir, name);
  const run = spawnSync(process.execPath, ['bin/tsx.mjs', 'datasets/make-corpus.ts', '--mib', '1', '--out', out, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return readFileSync(out);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('make-corpus', () => {
  it('is exact-size, newline-terminated and deterministic per seed', () => {
    const a = generate('a.txt', '--seed', '5');
    const b = generate('b.txt', '--seed', '5');
    const c = generate('c.txt', '--seed', '6');
    expect(a.length).toBe(1048576);
    expect(a[a.length - 1]).toBe(0x0a);
    expect(a.equals(b)).toBe(true);
    expect(c.length).toBe(1048576);
    expect(a.equals(c)).toBe(false);
  }, 60_000);

  it('rejects bad arguments with exit code 2 and a one-line message', () => {
    const run = spawnSync(process.execPath, ['bin/tsx.mjs', 'datasets/make-corpus.ts', '--mib', '0'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
