// The Markdown of the standard benchmark: the machine, the targets, then one table per section.
import { sweepHeadline, sweepTables } from '../../src/bench/sweep.ts';
import type { RunResult } from './report.ts';
import type { StandardSections, Target } from './standard-targets.ts';
import type { WordcountCorpus, WordcountRatios, WordcountResult, WordcountRun } from './wordcount-ratios.ts';

const fixed = (n: number | null | undefined, digits: number): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '-');
const secs = (ms: number | null | undefined): string => fixed(typeof ms === 'number' ? ms / 1000 : null, 2);
const mib = (kib: number | null | undefined): string => fixed(typeof kib === 'number' ? kib / 1024 : null, 0);
const cell = (text: string): string => text.replaceAll('|', '\\|');
const row = (cells: (string | number)[]): string => `| ${cells.map((c) => cell(String(c))).join(' | ')} |`;
const head = (cells: string[]): string[] => [row(cells), row(cells.map(() => '---'))];

export function machineLine(machine: Record<string, unknown>): string {
  const gib = (Number(machine.totalMemoryBytes) / 2 ** 30).toFixed(1);
  return `${machine.cpuModel}, ${machine.cores} cores, ${gib} GiB memory; Node ${machine.node}; ${machine.platform}; ${machine.date}`;
}

export function targetsTable(targets: Target[]): string {
  const verdict = (t: Target): string => (t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met');
  return [...head(['target', 'goal', 'measured', 'verdict']), ...targets.map((t) => row([t.label, t.goal, t.measured, verdict(t)]))].join('\n');
}

function sweepSection(s: NonNullable<StandardSections['sweep']>): string[] {
  const matches = s.matchesSequential === null ? 'not checked (no sequential loop)' : s.matchesSequential ? 'yes, every run' : 'NO (see runs[].outputNote)';
  return [
    `## Sweep: word count, ${s.corpus.mib} MiB corpus, ${s.reducers} reducers, ${s.repeat} run(s) each`, '',
    `${sweepHeadline(s.corpus.bytes, s.identical)}; equal to the sequential loop's counts: ${matches}`, '',
    sweepTables(s.rows),
  ];
}

function baselinesSection(s: NonNullable<StandardSections['baselines']>): string[] {
  const line = (r: RunResult): string => row([r.run, secs(r.seconds === null ? null : r.seconds * 1000), fixed(r.mbPerSecond, 1), mib(r.peakRssKiB), r.note]);
  return [`## Baselines, ${s.corpus.mib} MiB corpus`, '', ...head(['run', 'wall s', 'MB/s', 'peak RSS MiB', 'notes']), ...s.runs.map(line)];
}

function wordcountCorpusSection(c: WordcountCorpus, reducers: number): string[] {
  const distinct = c.runs.find((r) => r.ok && typeof r.detail?.distinct === 'number')?.detail?.distinct;
  const agree = c.loopsAgree === null ? 'not compared (a loop failed)' : c.loopsAgree ? 'yes' : 'NO';
  const note = (r: WordcountRun): string => `${r.note}${r.reusedFrom ? ` (run in the ${r.reusedFrom} section)` : ''}`;
  const line = (r: WordcountRun): string => row([r.run, r.workers, fixed(r.seconds, 2), fixed(r.mbPerSecond, 1), secs(r.engineMs), secs(r.mapPhaseMs), secs(r.reducePhaseMs), mib(r.peakRssKiB), note(r)]);
  return [
    `## Word count, ${c.vocab} vocabulary, ${c.corpus.mib} MiB corpus${distinct === undefined ? '' : ` (${distinct} distinct words)`}`, '',
    `\`mr run\` on grpc, ${reducers} reducers, each output checked against the plain loop of its job's functions; the two loops agree: ${agree}.`, '',
    ...head(['run', 'workers', 'wall s', 'MB/s', 'engine s', 'map phase s', 'reduce phase s', 'peak RSS MiB', 'notes']),
    ...c.runs.map(line),
  ];
}

const RATIOS: [keyof WordcountRatios, string][] = [
  ['builtinSpeedup', 'mr run wordcount.ts, 1 -> 2 workers'],
  ['stringsSpeedup', 'mr run wordcount-strings.ts, 1 -> 2 workers'],
  ['genericRatio', 'generic ratio: plain loop of the string functions / mr run wordcount-strings.ts x2'],
  ['builtinVsFloor', 'byte floor at 2 threads / mr run wordcount.ts x2'],
  ['builtinVsShell', 'shell pipeline / mr run wordcount.ts x2'],
];

function wordcountSections(s: WordcountResult): string[][] {
  const ratios = [
    '## Word count ratios', '', 'Each is a time over a time: above 1, the run after the slash (or the 2-worker run) is the faster.', '',
    ...head(['ratio', ...s.corpora.map((c) => c.vocab)]),
    ...RATIOS.map(([key, label]) => row([label, ...s.corpora.map((c) => (c.ratios[key] === null ? '-' : `${fixed(c.ratios[key], 2)}x`))])),
  ];
  return [...s.corpora.map((c) => wordcountCorpusSection(c, s.reducers)), ratios];
}

function scalingSection(s: NonNullable<StandardSections['scaling']>): string[] {
  return [
    `## Input-size scaling, ${s.transport}`, '',
    `Outputs identical across worker counts at each size: ${s.identicalPerSize ? 'yes' : 'NO'}.`, '',
    ...head(['MiB', 'workers', 'wall s', 'engine s', 'MB/s', 'runs', 'failed']),
    ...s.points.map((p) => row([p.mib, p.workers, secs(p.wallMs), secs(p.engineMs), fixed(p.mbPerSec, 1), `${p.runs}${p.fromSweep ? ' (sweep)' : ''}`, p.failed])),
    '',
    ...head(['workers', 'input', 'time ratio (wall)', 'time ratio (engine)']),
    ...s.ratios.map((r) => row([r.workers, `${r.fromMib} -> ${r.toMib} MiB`, fixed(r.wallRatio, 2), fixed(r.engineRatio, 2)])),
  ];
}

function startupSection(s: NonNullable<StandardSections['startup']>): string[] {
  const steps = s.medianSteps;
  return [
    '## Start-up', '', `\`${s.command}\`, embedded master, default workers (uber mode: in mr run itself); then \`${s.npxCommand}\`; then with --no-uber (worker processes).`, '',
    ...head(['through', 'runs', 'uber', 'median wall s', 'median engine s', 'each wall s']),
    row(['node', s.runs.filter((r) => r.ok).length, uberOf(s.runs), secs(s.medianWallMs), secs(s.medianEngineMs), s.runs.map((r) => (r.ok ? secs(r.wallMs) : 'failed')).join(', ')]),
    row(['npx', (s.npxRuns ?? []).filter((r) => r.ok).length, uberOf(s.npxRuns ?? []), secs(s.medianNpxWallMs), '-', (s.npxRuns ?? []).map((r) => (r.ok ? secs(r.wallMs) : 'failed')).join(', ')]),
    row(['node, --no-uber', (s.processesRuns ?? []).filter((r) => r.ok).length, uberOf(s.processesRuns ?? []), secs(s.medianProcessesWallMs), '-',
      (s.processesRuns ?? []).map((r) => (r.ok ? secs(r.wallMs) : 'failed')).join(', ')]),
    ...(steps ? ['', 'Where the time goes (medians, s since `mr run` began, through node):', '',
      ...head(['engine loaded', 'master listening', 'last worker started', 'last worker registered', 'first task']),
      row([secs(steps.masterEngineMs), secs(steps.masterReadyMs), secs(steps.workersStartedMs), secs(steps.workersReadyMs), secs(steps.firstTaskMs)])] : []),
  ];
}

/** Whether the runs ran uber: yes, no, or mixed (- when none ran). */
function uberOf(runs: { ok: boolean; uber?: boolean }[]): string {
  const seen = new Set(runs.filter((r) => r.ok).map((r) => (r.uber ? 'yes' : 'no')));
  return seen.size === 0 ? '-' : seen.size === 1 ? [...seen][0]! : 'mixed';
}

function schedulingSection(s: NonNullable<StandardSections['scheduling']>): string[] {
  return [
    '## Scheduling throughput', '', `Word count over ${s.files} one-line files (one map task each: --no-packing), ${s.workers} workers.${s.ok ? '' : ` FAILED: ${s.error}`}`, '',
    ...head(['files', 'map tasks', 'reduce tasks', 'map phase s', 'engine s', 'map tasks/s', 'all tasks/s']),
    row([s.files, s.mapTasks ?? '-', s.reduceTasks ?? '-', secs(s.mapPhaseMs), secs(s.engineMs), fixed(s.mapTasksPerSec, 0), fixed(s.tasksPerSec, 0)]),
    '', `The same files packed into map tasks (the default) against one file of the same ${s.files} lines, wall time:`, '',
    ...head(['packed s', 'packed map tasks', 'one file s', 'ratio']),
    row([secs(s.packedWallMs), s.packedMapTasks ?? '-', secs(s.oneFileWallMs), fixed(s.smallFilesRatio, 2)]),
  ];
}

function memorySection(s: NonNullable<StandardSections['memory']>): string[] {
  return [
    `## Memory, ${s.mib} MiB corpus, ${s.workers} workers`, '', s.ok ? `Wall ${secs(s.wallMs)} s.` : `FAILED: ${s.error}`, '',
    ...(s.processes.length ? head(['process', 'pid', 'CPU s', 'peak RSS MiB']) : []),
    ...s.processes.map((p) => row([p.role, p.pid, secs(p.cpuMs), mib(p.maxRssKiB)])),
  ];
}

export function standardMarkdown(machine: Record<string, unknown>, quick: boolean, sections: StandardSections, targets: Target[]): string {
  const parts: string[][] = [
    ['# mr standard benchmark', '', `Machine: ${machineLine(machine)}.`,
      ...(quick ? ['', '**Quick mode**: small inputs, for trying the bench out; the figures are not comparable with the targets.'] : [])],
    ['## Targets', '', targetsTable(targets)],
  ];
  if (sections.sweep) parts.push(sweepSection(sections.sweep));
  if (sections.baselines) parts.push(baselinesSection(sections.baselines));
  if (sections.wordcount) parts.push(...wordcountSections(sections.wordcount));
  if (sections.scaling) parts.push(scalingSection(sections.scaling));
  if (sections.startup) parts.push(startupSection(sections.startup));
  if (sections.scheduling) parts.push(schedulingSection(sections.scheduling));
  if (sections.memory) parts.push(memorySection(sections.memory));
  return parts.map((p) => p.join('\n')).join('\n\n');
}
