// What the single system image costs: the same word count on grpc and on ssi, over node counts and
// map checkpoint intervals, each run through the real CLI and timed from outside. Prints a
// markdown table and writes bench/results/ssi-cost-<commit>.json; asserts nothing.
//
//   npm run bench:ssi -- --input corpus.txt [--nodes 2,4] [--checkpoint-ms 0,250,1000] [--repeat 3] [--split-mib 32]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
const MR = join(ROOT, 'bin', 'mr.mjs');

interface Sample {
  transport: string;
  nodes: number;
  checkpointMs: number | null;
  wallS: number;
  mapTaskS: number;
  checkpoints: number;
  etcdWrites: number;
  watchEventsOnNodes: number;
}

const { values } = parseArgs({
  options: {
    input: { type: 'string' }, nodes: { type: 'string', default: '2,4' }, 'checkpoint-ms': { type: 'string', default: '0,250,1000' },
    repeat: { type: 'string', default: '3' }, 'split-mib': { type: 'string', default: '32' },
  },
});
if (!values.input) {
  process.stderr.write('give --input <file> (e.g. npx tsx datasets/make-corpus.ts --mib 128 --out corpus.txt)\n');
  process.exit(2);
}
const nodeCounts = values.nodes.split(',').map(Number);
const intervals = values['checkpoint-ms'].split(',').map(Number);
const repeat = Number(values.repeat);

function once(transport: string, nodes: number, checkpointMs: number | null): Sample {
  const out = mkdtempSync(join(tmpdir(), 'mr-ssi-bench-'));
  const args = [MR, 'run', 'jobs/wordcount.ts', '--input', values.input!, '--output', join(out, 'o'), '--transport', transport, '--workers', String(nodes),
    '--reducers', '4', '--split-mib', values['split-mib'], '--json', '--quiet', ...(checkpointMs === null ? [] : ['--checkpoint-ms', String(checkpointMs)])];
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallS = (performance.now() - started) / 1000;
  rmSync(out, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`${transport} ${nodes} failed: ${run.stderr}`);
  const summary = JSON.parse(run.stdout) as { stages: { counters: Record<string, number> }[]; backend: Record<string, unknown> & { etcd?: Record<string, number> } };
  const counters = summary.stages[0].counters;
  return {
    transport, nodes, checkpointMs, wallS, mapTaskS: (counters['time.mapMs'] ?? 0) / 1000, checkpoints: counters['map.checkpoints'] ?? 0,
    etcdWrites: summary.backend.etcd?.writes ?? 0, watchEventsOnNodes: summary.backend.etcd?.watchEventsOnNodes ?? 0,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows: Sample[] = [];
for (const nodes of nodeCounts) {
  for (const [transport, checkpointMs] of [['grpc', null], ...intervals.map((ms) => ['ssi', ms])] as [string, number | null][]) {
    const samples = Array.from({ length: repeat }, () => once(transport, nodes, checkpointMs));
    const row = {
      transport, nodes, checkpointMs, wallS: median(samples.map((s) => s.wallS)), mapTaskS: median(samples.map((s) => s.mapTaskS)),
      checkpoints: median(samples.map((s) => s.checkpoints)), etcdWrites: median(samples.map((s) => s.etcdWrites)),
      watchEventsOnNodes: median(samples.map((s) => s.watchEventsOnNodes)),
    };
    rows.push(row);
    process.stderr.write(`${transport} ${nodes} nodes ${checkpointMs ?? '-'} ms: ${row.wallS.toFixed(2)} s\n`);
  }
}

const grpcOf = (nodes: number): Sample => rows.find((r) => r.transport === 'grpc' && r.nodes === nodes)!;
const lines = [
  '| backend | nodes | checkpoint ms | median s | / grpc | map task s | checkpoints written | etcd writes | watch events on nodes |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.transport} | ${r.nodes} | ${r.checkpointMs ?? '-'} | ${r.wallS.toFixed(2)} | ${(r.wallS / grpcOf(r.nodes).wallS).toFixed(2)}x | ${r.mapTaskS.toFixed(2)} | ${r.checkpoints} | ${r.etcdWrites} | ${r.watchEventsOnNodes} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const name = `ssi-cost-${commit}-nodes-${nodeCounts.join('_')}-checkpoint-ms-${intervals.join('_')}.json`;
writeFileSync(join(ROOT, 'bench', 'results', name), `${JSON.stringify({ commit, input: values.input, repeat, splitMib: Number(values['split-mib']), rows }, null, 2)}\n`);
