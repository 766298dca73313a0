// Fault benchmark: word count on a fresh real cluster per scenario, fault-free, with a worker
// SIGKILLed halfway through the map phase, and with one worker slowed 10x (with and without
// backup tasks), compared with the MapReduce paper's figures. It prints and records; it asserts nothing.
// node bin/tsx.mjs bench/faults.ts [--mib 256] [--workers 3] [--repeat 1] [--out bench/results]
//   [--split-mib N] [--worker-timeout-ms 2000] [--timeout-s N]
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS_SEED, corpusCacheDir, ensureCorpus } from './lib/corpus.ts';
import { killAll } from './lib/faults-procs.ts';
import { renderTable, statements, summarize, writeFaultReport, type ScenarioRow, type ScenarioRun } from './lib/faults-report.ts';
import { checkCounters, checkOutput, runScenario, SCENARIOS, toScenarioRun, DEFAULT_WORKER_TIMEOUT_MS, type RunSettings } from './lib/faults-scenarios.ts';
import { REDUCERS } from './lib/mr-run.ts';
import { REPO_ROOT, progress } from './lib/progress.ts';
import { machineInfo } from './lib/report.ts';

interface FaultOptions {
  mib: number;
  workers: number;
  repeat: number;
  outDir: string;
  splitMib: number;
  timeoutMs: number;
  workerTimeoutMs: number;
}

function positive(text: string, option: string, min = 1, integer = true): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`--${option} wants ${integer ? 'a whole number' : 'a number'} of at least ${min}, not ${JSON.stringify(text)}`);
  }
  return value;
}

function parseOptions(argv: string[]): FaultOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      mib: { type: 'string', default: '256' },
      workers: { type: 'string', default: '3' },
      repeat: { type: 'string', default: '1' },
      out: { type: 'string' },
      'split-mib': { type: 'string' },
      'timeout-s': { type: 'string' },
      'worker-timeout-ms': { type: 'string', default: String(DEFAULT_WORKER_TIMEOUT_MS) },
    },
  });
  const mib = positive(values.mib, 'mib');
  return {
    mib,
    // Killing one of a single worker would leave nobody to finish the job.
    workers: positive(values.workers, 'workers', 2),
    repeat: positive(values.repeat, 'repeat'),
    outDir: values.out ? resolve(values.out) : resolve(REPO_ROOT, 'bench', 'results'),
    // 16 MiB splits, but never fewer than 16 map tasks: a fault halfway through a phase of one or
    // two tasks says nothing. The same size serves every scenario of the run.
    splitMib: values['split-mib'] ? positive(values['split-mib'], 'split-mib', 0.01, false) : Math.min(16, mib / 16),
    // Only a hung run is stopped: two minutes plus 4 s per MiB (the slowed runs take a few times longer).
    timeoutMs: values['timeout-s'] ? positive(values['timeout-s'], 'timeout-s') * 1000 : (120 + 4 * mib) * 1000,
    workerTimeoutMs: positive(values['worker-timeout-ms'], 'worker-timeout-ms', 100),
  };
}

function describe(run: ScenarioRun): string {
  if (!run.ok) return `${run.label}: FAILED (${run.error})`;
  const attempts = `map attempts ${run.mapAttempts}/${run.mapTasks}, backups ${run.backupAttempts}, failed ${run.failedAttempts}`;
  return `${run.label}: ${run.wallSeconds?.toFixed(2)} s (engine ${run.engineSeconds?.toFixed(2)} s), ${attempts}; ${run.outputNote}`;
}

/** Every scenario once per round, rounds repeated, so slow drift of the machine hits them alike. */
async function runAll(options: FaultOptions, settings: RunSettings): Promise<ScenarioRun[]> {
  const runs: ScenarioRun[] = [];
  let reference: Buffer | undefined;
  let referenceCounters: Record<string, number> | undefined;
  for (let repeat = 1; repeat <= options.repeat; repeat++) {
    for (const scenario of SCENARIOS) {
      progress(`[${repeat}/${options.repeat}] ${scenario.label}: fresh cluster of ${options.workers} workers ...`);
      // Other work on the machine skews the figures; the load before each run is kept to judge that.
      const loadBefore = Number(loadavg()[0].toFixed(2));
      const result = await runScenario(scenario, settings);
      const { job, output } = result;
      const isReference = scenario.id === 'fault-free' && !reference && output !== undefined;
      if (isReference) reference = output;
      // Counters of a run where a live worker was presumed dead include rerun work: no reference.
      if (scenario.id === 'fault-free' && job.ok && result.reRegistrations === 0) referenceCounters ??= job.summary?.stages?.[0]?.counters;
      const check = isReference ? { output: 'reference' as const, outputNote: `reference output (${output.length} bytes)` } : checkOutput(output, reference);
      const run = { ...toScenarioRun(scenario, repeat, result, check), ...checkCounters(job, referenceCounters), loadBefore };
      if (!run.ok) progress(`!!! ${scenario.label} FAILED: ${run.error}\n    ${job.stderrTail.split('\n').join('\n    ')}`);
      runs.push(run);
      progress(describe(run));
    }
  }
  return runs;
}

function notes(options: FaultOptions, runs: ScenarioRun[]): string[] {
  const machine = machineInfo();
  const mismatches = runs.filter((r) => r.output === 'MISMATCH').length;
  return [
    `Every master ran with --worker-timeout-ms ${options.workerTimeoutMs} (default 10000), so a dead worker is noticed quickly and alike in every scenario; --lease-ms stayed at its default. Workers heartbeat every second.`,
    presumedDead(runs),
    `seconds: wall time of \`mr run --master\` (submit to result, with its own start-up), median of ${options.repeat} run(s) each; engine: the job's elapsedMs.`,
    `killed: worker 0 of ${options.workers} gets SIGKILL when a status poll (every 200 ms) first sees mapDone >= mapTotal/2; its finished map outputs die with it and are run again. Google killed 200 of 1746 workers; here it is 1 of ${options.workers}.`,
    'slow: worker 0 runs 10 ms of every 100 ms (SIGCONT, 10 ms, SIGSTOP, 90 ms) from submission to the end (timers overshoot, so it runs a little more: the share measured is in the notes); it also serves its map outputs that slowly. Google\'s +44% is their sort with backup tasks disabled, on a cluster with its usual stragglers, not one slowed machine.',
    `machine: ${machine.cores} cores (${machine.cpuModel}) for master + ${options.workers} workers + client, so workers share CPU and a stopped worker frees some for the others; 1-minute load average before each run: ${runs.map((r) => r.loadBefore).join(', ')}.`,
    mismatches === 0 ? 'Every successful run wrote output byte-identical to the fault-free run.' : `!!! ${mismatches} run(s) wrote output that DIFFERS from the fault-free run.`,
  ];
}

/** A worker that misses heartbeats for --worker-timeout-ms is presumed dead even when it is not. */
function presumedDead(runs: ScenarioRun[]): string {
  const hit = runs.filter((r) => r.reRegistrations > 0);
  if (hit.length === 0) return 'No live worker was presumed dead: no worker re-registered in any run.';
  const which = hit.map((r) => `${r.label} ${r.reRegistrations}x`).join(', ');
  return `!!! The master presumed a LIVE worker dead (no heartbeat within the timeout; it re-registered) in: ${which}. Its finished map outputs were rerun, so those runs include a fault that was not injected.`;
}

function markdown(options: FaultOptions, bytes: number, rows: ScenarioRow[], runs: ScenarioRun[]): string {
  const mapTasks = runs.find((r) => r.mapTasks !== null)?.mapTasks ?? '?';
  const title = `Faults: word count, ${(bytes / 1e6).toFixed(1)} MB corpus, ${options.workers} workers, ${REDUCERS} reducers, ${options.splitMib} MiB splits (${mapTasks} map tasks)`;
  const list = (lines: string[]): string[] => lines.map((line) => `- ${line}`);
  return [`## ${title}`, '', renderTable(rows, runs), '', ...list(statements(rows)), '', 'Notes:', '', ...list(notes(options, runs))].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const corpus = await ensureCorpus(options.mib);
  const bytes = statSync(corpus).size;
  progress(`corpus ${corpus}: ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${options.splitMib} MiB splits`);
  const runs = await runAll(options, { ...options, corpus });
  const rows = summarize(runs, SCENARIOS);
  const text = markdown(options, bytes, rows, runs);
  const summary = {
    machine: machineInfo(),
    corpus: { path: corpus, bytes, mib: bytes / 1024 / 1024, seed: CORPUS_SEED, cacheDir: corpusCacheDir() },
    options: { ...options, reducers: REDUCERS, pollMs: 200, slowDutyCycle: { runMs: 10, periodMs: 100 } },
    scenarios: rows,
    statements: statements(rows),
    runs,
  };
  const files = writeFaultReport(options.outDir, summary, text);
  console.log(`${text}\n`);
  progress(`wrote ${files.join(' and ')}`);
}

main()
  .catch((error: unknown) => {
    progress(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  })
  .finally(killAll);
