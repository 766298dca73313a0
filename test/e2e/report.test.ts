// `mr run --report` through the real CLI: one figure a line, each value with its unit and a few
// words on what it is, and every figure in the table of docs/running.md.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let runningDoc: string;
beforeAll(async () => {
  dir = await tempDir();
  await writeFile(join(dir, 'in.txt'), 'Holmes and Watson\nand Holmes\n');
  runningDoc = await readFile(join(ROOT, 'docs', 'running.md'), 'utf8');
});
afterAll(() => removeDir(dir));

const FIGURE = /^mr: {3}(\w+): +(.+) - (.+)$/;

describe('--report', () => {
  it.each([
    ['memory', ['--workers', '1'], '1 node(s) (workers in this process)'],
    ['grpc', ['--workers', '1'], '1 node(s) (worker processes)'],
    ['hypercube', ['--nodes', '2'], '2 node(s) (simulated nodes, one worker each)'],
    ['butterfly', ['--nodes', '2'], '2 node(s) (simulated processors, one worker each)'],
  ])('%s: every figure on a line of its own, with its unit, and in docs/running.md', async (transport, extra, nodes) => {
    const r = await runMr(['run', join(ROOT, 'jobs', 'wordcount.ts'), '--input', 'in.txt', '--output', `out-${transport}`, '--transport', transport, ...extra, '--report', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`mr: backend ${transport}: ${nodes}`);
    const figures = new Map(lines.slice(1).map((line) => {
      const match = FIGURE.exec(line);
      expect(match, line).not.toBeNull();
      return [match![1]!, match![2]!] as const;
    }));
    expect([...figures.keys()].slice(0, 3)).toEqual(['messages', 'bytes', 'elapsedMs']);
    expect(figures.get('bytes')).toMatch(/^\d+ bytes( \(\d+\.\d+ [kMG]B\))?$/);
    expect(figures.get('elapsedMs')).toMatch(/^\d+ ms$/);
    for (const [name, value] of figures) {
      if (/Ms$/.test(name)) expect(value, name).toMatch(/ ms$/);
      if (/Bytes$/.test(name)) expect(value, name).toMatch(/\d bytes/);
      expect(runningDoc, `docs/running.md table row for ${name}`).toMatch(new RegExp(`^\\| \`${name}\` \\| [^|]+ \\| [^|]+ \\| .+ \\|$`, 'm'));
    }
    expect(r.stderr).not.toMatch(/; wall /);   // the old undefined 'wall'
  });
});
