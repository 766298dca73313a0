// Backends benchmark: the word count of one generated corpus on grpc, hypercube and butterfly at
// several sizes: wall time, the simulated machine's time and interconnect figures, and each
// simulated backend's wall-time overhead against grpc with as many workers. Asserts nothing.
// npm run bench:backends -- [--mib 64] [--hypercube 2,4,8,16] [--butterfly 2,4,8] [--ssi 1,2,4]
//                            [--horizontal 1,2,4] [--recovery] [--out bench/results]
// --recovery adds, for ssi and horizontal at 2 nodes/servers, a run where one worker process is
// killed 40% into the fault-free run's time, and reports what that cost.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import job from '../jobs/wordcount.ts';
import { runSequentialBaseline } from './lib/baselines.ts';
import { CORPUS_SEED, ensureCorpus } from './lib/corpus.ts';
import { REDUCERS, runMrWordcount } from './lib/mr-run.ts';
import { REPO_ROOT, progress } from './lib/progress.ts';
import { machineInfo, writeReport, type RunResult } from './lib/report.ts';

function sizes(text: string, option: string): number[] {
  return text.split(',').filter(Boolean).map((part) => {
    const n = Number(part.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${option} wants whole numbers like 2,4,8, not ${JSON.stringify(text)}`);
    return n;
  });
}

interface BackendRun {
  transport: string;
  nodes: number;
  ok: boolean;
  wallSeconds: number | null;
  engineSeconds: number | null;
  simulatedMs: number | null;
  overheadVsGrpc: number | null;
  outputMatches: boolean | null;
  backend: Record<string, unknown> | null;
  note: string;
}

function toBackendRun(transport: string, nodes: number, result: RunResult): BackendRun {
  const backend = (result.detail?.backend as Record<string, unknown> | undefined) ?? null;
  if (backend) delete backend.links; // per-link figures stay out of the summary: up to N*d of them
  return {
    transport, nodes, ok: result.ok,
    wallSeconds: result.seconds,
    engineSeconds: typeof result.detail?.engineElapsedMs === 'number' ? result.detail.engineElapsedMs / 1000 : null,
    simulatedMs: typeof backend?.simulatedMs === 'number' ? backend.simulatedMs : null,
    overheadVsGrpc: null,
    outputMatches: (result.detail?.outputMatches as boolean | null | undefined) ?? null,
    backend,
    note: result.note,
  };
}

/** SIGKILLs the first process whose command line matches (a worker of the run under way). */
function killOne(pattern: string): void {
  const found = spawnSync('pgrep', ['-f', '-n', pattern], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (found) {
    progress(`  killing pid ${found}`);
    process.kill(Number(found), 'SIGKILL');
  } else progress(`  no process matched ${pattern}`);
}

function figures(run: BackendRun): string {
  const b = run.backend;
  if (!b) return run.note;
  if (run.transport.includes('killed')) return `${run.note}; ${b.failovers !== undefined ? `failovers ${b.failovers}` : `migrations ${b.migrations}`}`;
  if (run.transport === 'ssi') return `migrations ${b.migrations}; ${b.messages} master messages`;
  if (run.transport === 'horizontal') return `failovers ${b.failovers}; servers ${JSON.stringify(b.servers)}`;
  if (run.transport === 'hypercube') {
    const hot = b.hottestLink as { from: number; to: number; bytes: number } | null;
    return `hops mean ${b.meanHops} max ${b.maxHops}; bisection ${mb(b.bisectionBytes)}; hottest ${hot ? `${hot.from}->${hot.to} ${mb(hot.bytes)}` : '-'}`;
  }
  if (run.transport === 'butterfly') {
    return `local ${mb(b.localBytes)}, remote ${mb(b.remoteBytes)}; conflicts ${JSON.stringify(b.switchConflicts)}`;
  }
  return `${b.messages} master messages, ${mb(b.bytes)}`;
}

const mb = (n: unknown): string => (typeof n === 'number' ? `${(n / 1e6).toFixed(1)} MB` : '-');
const fixed = (n: number | null, digits: number): string => (n === null ? '-' : n.toFixed(digits));

function table(runs: BackendRun[]): string {
  const rows = runs.map((r) => `| ${r.transport} | ${r.nodes} | ${fixed(r.wallSeconds, 2)} | ${fixed(r.simulatedMs, 1)} | ${r.overheadVsGrpc === null ? '-' : `${r.overheadVsGrpc.toFixed(2)}x`} | ${r.outputMatches === null ? '-' : r.outputMatches ? 'yes' : 'NO'} | ${r.ok ? figures(r) : r.note} |`);
  return ['| backend | nodes | wall s | simulated ms | wall vs grpc | output ok | interconnect |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      mib: { type: 'string', default: '64' },
      hypercube: { type: 'string', default: '2,4,8,16' },
      butterfly: { type: 'string', default: '2,4,8' },
      ssi: { type: 'string', default: '' },
      horizontal: { type: 'string', default: '' },
      recovery: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const mib = sizes(values.mib, 'mib')[0];
  const plan: [string, number][] = [
    ...sizes(values.hypercube, 'hypercube').map((n): [string, number] => ['hypercube', n]),
    ...sizes(values.butterfly, 'butterfly').map((n): [string, number] => ['butterfly', n]),
    ...sizes(values.ssi, 'ssi').map((n): [string, number] => ['ssi', n]),
    ...sizes(values.horizontal, 'horizontal').map((n): [string, number] => ['horizontal', n]),
  ];
  const grpcSizes = [...new Set(plan.map(([, n]) => n))].sort((a, b) => a - b);
  const corpus = await ensureCorpus(mib);
  const bytes = statSync(corpus).size;
  progress(`corpus ${corpus}: ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  progress('reference counts (sequential loop) ...');
  const { counts } = await runSequentialBaseline(job, corpus, bytes);
  const child = { cwd: REPO_ROOT, timeoutMs: (120 + 8 * mib) * 1000 };
  const runs: BackendRun[] = [];
  const run = async (transport: string, nodes: number): Promise<BackendRun> => {
    progress(`${transport} with ${nodes} ...`);
    const scale = transport === 'grpc' || transport === 'horizontal'
      ? ['--transport', transport, '--workers', String(nodes)] : ['--transport', transport, '--nodes', String(nodes)];
    const result = toBackendRun(transport, nodes, await runMrWordcount(corpus, bytes, nodes, counts, child, scale));
    progress(`  ${fixed(result.wallSeconds, 2)} s${result.simulatedMs === null ? '' : `, simulated ${result.simulatedMs} ms`}`);
    runs.push(result);
    return result;
  };
  const grpc = new Map<number, BackendRun>();
  for (const n of grpcSizes) grpc.set(n, await run('grpc', n));
  for (const [transport, n] of plan) {
    const result = await run(transport, n);
    const base = grpc.get(n);
    if (result.wallSeconds !== null && base?.wallSeconds) result.overheadVsGrpc = result.wallSeconds / base.wallSeconds;
  }
  if (values.recovery) {
    for (const transport of ['ssi', 'horizontal']) {
      const base = runs.find((r) => r.transport === transport && r.nodes === 2 && r.wallSeconds !== null) ?? await run(transport, 2);
      const killAfterMs = Math.round((base.wallSeconds ?? 10) * 400);
      progress(`${transport} with 2, one worker killed after ${killAfterMs} ms ...`);
      const pattern = transport === 'horizontal' ? 'worker --join' : 'worker --master.*--transport ssi';
      const timer = setTimeout(() => killOne(pattern), killAfterMs);
      const scale = transport === 'horizontal' ? ['--transport', transport, '--workers', '2'] : ['--transport', transport, '--nodes', '2'];
      const killed = toBackendRun(`${transport} (one killed)`, 2, await runMrWordcount(corpus, bytes, 2, counts, child, scale));
      clearTimeout(timer);
      if (killed.wallSeconds !== null && base.wallSeconds !== null) {
        killed.note = `recovery cost ${(killed.wallSeconds - base.wallSeconds).toFixed(2)} s over the fault-free ${base.wallSeconds.toFixed(2)} s`;
      }
      progress(`  ${killed.note}`);
      runs.push(killed);
    }
  }
  const simulated = runs.filter((r) => (r.transport === 'hypercube' || r.transport === 'butterfly') && r.overheadVsGrpc !== null);
  const worst = Math.max(...simulated.map((r) => r.overheadVsGrpc as number));
  const ssi = runs.filter((r) => r.transport === 'ssi' && r.overheadVsGrpc !== null).map((r) => r.overheadVsGrpc as number);
  const statement = [
    simulated.length ? `simulated machines: worst wall-time overhead against grpc with as many workers ${worst.toFixed(2)}x (target: within 1.5x) — ${worst <= 1.5 ? 'met' : 'NOT met'}` : '',
    ssi.length ? `ssi: worst wall-time overhead against grpc ${Math.max(...ssi).toFixed(2)}x (target: within 1.10x) — ${Math.max(...ssi) <= 1.1 ? 'met' : 'NOT met'}` : '',
  ].filter(Boolean).join('; ');
  const title = `Word count on the backends, ${(bytes / 1e6).toFixed(1)} MB corpus, ${REDUCERS} reducers`;
  const markdown = [`## ${title}`, '', table(runs), '', `- ${statement}`].join('\n');
  const summary = { machine: machineInfo(), corpus: { path: corpus, bytes, seed: CORPUS_SEED }, reducers: REDUCERS, runs, statement };
  const files = writeReport(values.out ? resolve(values.out) : resolve(REPO_ROOT, 'bench', 'results'), summary, markdown, 'backends');
  console.log(`${markdown}\n`);
  progress(`wrote ${files.join(' and ')}`);
}

main().catch((error: unknown) => {
  progress(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
