// The elastic farm against a fixed one: a job of many equal tasks on the horizontal backend with
// --autoscale 1..N against N fixed servers, each run through the real CLI and timed from outside.
// Prints a markdown table (with the servers over time) and writes
// bench/results/autoscale-<commit>.json; asserts nothing.
//
//   npm run bench:autoscale -- [--servers 4] [--tasks 24] [--task-ms 600] [--repeat 3]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
const MR = join(ROOT, 'bin', 'mr.mjs');
const LINE_MS = 20;

const { values } = parseArgs({
  options: { servers: { type: 'string', default: '4' }, tasks: { type: 'string', default: '24' }, 'task-ms': { type: 'string', default: '600' }, repeat: { type: 'string', default: '3' } },
});
const servers = Number(values.servers);
const tasks = Number(values.tasks);
const lines = Math.max(1, Math.round(Number(values['task-ms']) / LINE_MS));
const repeat = Number(values.repeat);

const dir = mkdtempSync(join(tmpdir(), 'mr-autoscale-bench-'));
for (let t = 0; t < tasks; t++) writeFileSync(join(dir, `in-${String(t).padStart(3, '0')}.txt`), `${Array.from({ length: lines }, (_, i) => 'q'.repeat((i + t) % 11)).join('\n')}\n`);

interface Run {
  wallS: number;
  servers: { atMs: number; servers: number }[];
}

function once(scale: string[]): Run {
  const out = join(dir, 'out');
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const run = spawnSync(process.execPath, [MR, 'run', 'test/fixtures/slow-lines.ts', '--input', join(dir, 'in-*.txt'), '--output', out, '--transport', 'horizontal',
    '--no-packing', '--no-speculation', '--reducers', '2', '--set', `lineMs=${LINE_MS}`, '--json', '--quiet', ...scale], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallS = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`mr run ${scale.join(' ')} failed: ${run.stderr}`);
  return { wallS, servers: (JSON.parse(run.stdout) as { backend: { servers: Run['servers'] } }).backend.servers };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const shapes: [string, string[]][] = [[`${servers} fixed`, ['--workers', String(servers)]], [`autoscale 1..${servers}`, ['--autoscale', `1..${servers}`]]];
const rows = shapes.map(([name, scale]) => {
  const runs = Array.from({ length: repeat }, () => once(scale));
  process.stderr.write(`${name}: ${runs.map((r) => r.wallS.toFixed(2)).join(', ')} s\n`);
  const mid = runs.find((r) => r.wallS === median(runs.map((x) => x.wallS)))!;
  return { name, wallS: mid.wallS, runs: runs.map((r) => r.wallS), servers: mid.servers };
});
rmSync(dir, { recursive: true, force: true });

const fixed = rows[0].wallS;
const lines_ = [
  `${tasks} map tasks of about ${lines * LINE_MS} ms each (test/fixtures/slow-lines.ts), 2 reducers, medians of ${repeat}:`, '',
  '| farm | median s | / fixed | servers over time (ms: servers), median run |', '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.name} | ${r.wallS.toFixed(2)} | ${(r.wallS / fixed).toFixed(2)}x | ${r.servers.map((s) => `${s.atMs}: ${s.servers}`).join(', ')} |`),
];
process.stdout.write(`${lines_.join('\n')}\n`);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', `autoscale-${commit}.json`), `${JSON.stringify({ commit, servers, tasks, taskMs: lines * LINE_MS, repeat, rows }, null, 2)}\n`);
