// The standard benchmark's arithmetic on made-up figures: speedup bases, scaling ratios, the
// targets with their verdicts, and the Markdown they make. No processes, no files.
import { describe, expect, it } from 'vitest';
import { summarise, type BenchRun } from '../../src/bench/sweep.ts';
import { parseStandardOptions } from '../../bench/lib/standard-options.ts';
import { startupSteps } from '../../bench/lib/standard-probes.ts';
import { standardMarkdown, targetsTable } from '../../bench/lib/standard-report.ts';
import { scalingPoint, scalingRatios } from '../../bench/lib/standard-scaling.ts';
import { evaluateTargets, problemsOf, type StandardSections } from '../../bench/lib/standard-targets.ts';
import { fromBenchRun } from '../../bench/lib/standard-wordcount.ts';
import { wordcountRatios, type WordcountCorpus, type WordcountRun } from '../../bench/lib/wordcount-ratios.ts';

const MB = 1e6;

function run(transport: string, workers: number, wallMs: number, extra: Partial<BenchRun> = {}): BenchRun {
  const phases = { mapWallMs: wallMs * 0.8, reduceWallMs: wallMs * 0.2, mapMs: wallMs, shuffleMs: 10, reduceMs: 20, commitMs: 5 };
  return { transport, workers, repeat: 1, ok: true, wallMs, engineMs: wallMs - 300, outputHash: 'h', outputMatches: true, mapTasks: 8, reduceTasks: 4, mapPhaseMs: wallMs * 0.8, phases, ...extra };
}

const sweepRuns = [run('grpc', 1, 10_000), run('grpc', 2, 5_000), run('hypercube', 2, 6_000), run('hypercube', 4, 4_000)];

function wcRun(name: string, workers: number, seconds: number, extra: Partial<WordcountRun> = {}): WordcountRun {
  return { run: name, workers, ok: true, seconds, mbPerSecond: 1000 / seconds, peakRssKiB: 200_000, note: '', ...extra };
}

// 1000 MB: the built-in job at 2 workers makes 125 MB/s, 1.9x its 1-worker time; the string loop takes 2.1x the string job at 2 workers.
function wordcountCorpus(vocab: 'realistic' | 'large', scale = 1): WordcountCorpus {
  const runs = [
    wcRun('plain loop, wordcount.ts', 1, 10 * scale), wcRun('plain loop, wordcount-strings.ts', 1, 21 * scale),
    wcRun('byte floor, 1 thread', 1, 4 * scale), wcRun('byte floor, 2 threads', 2, 2 * scale), wcRun('shell pipeline', 1, 40 * scale),
    wcRun('mr run wordcount.ts', 1, 15.2 * scale, { engineMs: 15_000, mapPhaseMs: 12_000, reducePhaseMs: 3000, outputMatches: true }),
    wcRun('mr run wordcount.ts', 2, 8 * scale, { outputMatches: true }),
    wcRun('mr run wordcount-strings.ts', 1, 18 * scale, { outputMatches: true }), wcRun('mr run wordcount-strings.ts', 2, 10 * scale, { outputMatches: true }),
  ];
  return { vocab, corpus: { path: `/c-${vocab}`, bytes: 1000 * MB, mib: 256 }, loopsAgree: true, runs, ratios: wordcountRatios(runs) };
}

function sections(overrides: Partial<StandardSections> = {}): StandardSections {
  const corpus = { path: '/c', bytes: 1000 * MB, mib: 256 };
  return {
    sweep: { corpus, reducers: 4, repeat: 1, identical: true, matchesSequential: true, rows: summarise(sweepRuns, corpus.bytes, { transport: 'grpc', workers: 1 }), runs: sweepRuns },
    baselines: { corpus, runs: [{ run: 'sequential loop', workers: 1, ok: true, seconds: 9.5, mbPerSecond: 105, peakRssKiB: 300_000, note: '' }] },
    wordcount: { reducers: 4, corpora: [wordcountCorpus('realistic'), wordcountCorpus('large', 2)] },
    scaling: {
      transport: 'grpc', workers: [1], identicalPerSize: true, runs: [],
      points: [], ratios: [{ workers: 1, fromMib: 64, toMib: 256, wallRatio: 3.9, engineRatio: 4 }, { workers: 1, fromMib: 128, toMib: 512, wallRatio: 4.4, engineRatio: 4.1 }],
    },
    startup: {
      command: 'mr run', runs: [{ ok: true, wallMs: 250, engineMs: 100 }], medianWallMs: 250, medianEngineMs: 100,
      npxCommand: 'npx mr run', npxRuns: [{ ok: true, wallMs: 700 }], medianNpxWallMs: 700,
    },
    scheduling: { files: 2000, workers: 2, reducers: 4, ok: true, mapTasks: 2000, reduceTasks: 4, mapPhaseMs: 300, engineMs: 500, mapTasksPerSec: 6667, tasksPerSec: 4008, run: run('grpc', 2, 1200),
      packedWallMs: 1500, packedMapTasks: 4, oneFileWallMs: 700, smallFilesRatio: 1500 / 700 },
    memory: {
      mib: 1024, bytes: 1024 * MB, workers: 2, ok: true, wallMs: 20_000, maxRssKiB: 600 * 1024, run: run('grpc', 2, 20_000),
      processes: [{ role: 'master', pid: 1, cpuMs: 100, maxRssKiB: 100 * 1024 }, { role: 'worker', pid: 2, cpuMs: 9000, maxRssKiB: 600 * 1024 }],
    },
    ...overrides,
  };
}

describe('standard bench figures', () => {
  it('measures a backend without a 1-worker run against the common base', () => {
    const rows = summarise(sweepRuns, 1000 * MB, { transport: 'grpc', workers: 1 });
    const hyper4 = rows.find((r) => r.transport === 'hypercube' && r.workers === 4)!;
    expect(hyper4).toMatchObject({ base: 'grpc x1', speedup: 2.5, efficiency: 0.625 });
    expect(rows.find((r) => r.transport === 'grpc' && r.workers === 2)).toMatchObject({ base: 'grpc x1', speedup: 2, mbPerSec: 200 });
    // Without a common base, each backend is its own reference, as `mr bench` reports it.
    expect(summarise(sweepRuns, 1000 * MB).find((r) => r.transport === 'hypercube' && r.workers === 2)).toMatchObject({ base: 'hypercube x2', speedup: 1 });
    expect(hyper4.phases).toMatchObject({ mapWallMs: 3200, shuffleMs: 10, commitMs: 5 });
  });

  it('pairs every size with the one four times larger at the same worker count', () => {
    const points = [64, 128, 256, 512].flatMap((mib) => [1, 2].map((w) => scalingPoint(mib, mib * MB, w, [run('grpc', w, mib * 40 / w)], false)));
    const ratios = scalingRatios(points);
    expect(ratios.map((r) => [r.workers, r.fromMib, r.toMib])).toEqual([[1, 64, 256], [1, 128, 512], [2, 64, 256], [2, 128, 512]]);
    expect(ratios[0].wallRatio).toBe(4);
  });

  it('judges each target, and calls a skipped one not measured', () => {
    const targets = evaluateTargets(sections());
    const verdicts = Object.fromEntries(targets.map((t) => [t.id, t.met]));
    expect(verdicts).toEqual({
      'speedup-vs-sequential': true, throughput: true, startup: true, scheduling: true, 'small-files': false, memory: false, 'input-scaling': false,
      'wordcount-throughput': true, 'wordcount-speedup': true, 'generic-ratio': true,
    });
    expect(targets.find((t) => t.id === 'speedup-vs-sequential')!.value).toBeCloseTo(1.9);
    expect(targets.find((t) => t.id === 'input-scaling')!.measured).toBe('4.40x (128->512 MiB at 1 worker)');
    const skipped = evaluateTargets(sections({ startup: undefined, memory: undefined }));
    expect(skipped.find((t) => t.id === 'startup')).toMatchObject({ met: null, value: null, measured: 'not measured (skipped)' });
    expect(targetsTable(skipped)).toContain('| largest process RSS, - MiB input, 2 workers | <= 512 MiB | not measured (skipped) | not measured |');
  });

  it('derives the word-count ratios and judges its targets on the realistic corpus only', () => {
    const { ratios } = wordcountCorpus('realistic');
    expect(ratios.builtinSpeedup).toBeCloseTo(1.9);
    expect(ratios.stringsSpeedup).toBeCloseTo(1.8);
    expect(ratios.genericRatio).toBeCloseTo(2.1);
    expect(ratios.builtinVsFloor).toBeCloseTo(0.25);
    expect(ratios.builtinVsShell).toBeCloseTo(5);
    const byId = (s: StandardSections) => Object.fromEntries(evaluateTargets(s).map((t) => [t.id, t]));
    expect(byId(sections())['wordcount-throughput']).toMatchObject({ value: 125, measured: '125.0 MB/s (realistic, 256 MiB)', met: true });
    // A slow 2-worker string run misses the generic ratio; the large corpus's figures judge nothing.
    const slow = wordcountCorpus('realistic');
    slow.runs[8] = wcRun('mr run wordcount-strings.ts', 2, 14);
    slow.ratios = wordcountRatios(slow.runs);
    const slowTargets = byId(sections({ wordcount: { reducers: 4, corpora: [slow, wordcountCorpus('large', 100)] } }));
    expect(slowTargets['generic-ratio']).toMatchObject({ met: false, measured: '1.50x (realistic, 256 MiB)' });
    expect(slowTargets['wordcount-throughput'].met).toBe(true);
    const skipped = byId(sections({ wordcount: undefined }));
    for (const id of ['wordcount-throughput', 'wordcount-speedup', 'generic-ratio']) expect(skipped[id]).toMatchObject({ met: null, measured: 'not measured (skipped)' });
    // A failed 2-worker run leaves its ratios and targets unmeasured, and is a problem.
    const failed = wordcountCorpus('realistic');
    failed.runs[6] = { ...wcRun('mr run wordcount.ts', 2, 0), ok: false, seconds: null, mbPerSecond: null, note: 'FAILED: exit 1' };
    failed.ratios = wordcountRatios(failed.runs);
    expect(failed.ratios).toMatchObject({ builtinSpeedup: null, builtinVsFloor: null, builtinVsShell: null });
    const withFailed = sections({ wordcount: { reducers: 4, corpora: [failed] } });
    expect(byId(withFailed)['wordcount-speedup'].met).toBeNull();
    expect(problemsOf(withFailed)).toEqual(['wordcount, realistic: mr run wordcount.ts x2: FAILED: exit 1']);
  });

  it('reports a wrong word-count output and loops that disagree, but not a run reused from another section', () => {
    const c = wordcountCorpus('large');
    c.runs[7] = { ...c.runs[7], outputMatches: false, note: 'OUTPUT WRONG: 1 missing' };
    c.runs[5] = { ...c.runs[5], ok: false, note: 'FAILED: boom', reusedFrom: 'sweep' };
    c.loopsAgree = false;
    expect(problemsOf(sections({ wordcount: { reducers: 4, corpora: [wordcountCorpus('realistic'), c] } }))).toEqual([
      'wordcount, large: mr run wordcount-strings.ts x1: OUTPUT WRONG: 1 missing',
      'wordcount, large: the plain loops of wordcount.ts and wordcount-strings.ts counted differently',
    ]);
  });

  it('records a mr run with its engine figures and the peak RSS of its largest process', () => {
    const processes = [{ role: 'master', pid: 1, cpuMs: 10, maxRssKiB: 90_000 }, { role: 'worker', pid: 2, cpuMs: 900, maxRssKiB: 150_000 }];
    const record = fromBenchRun('mr run wordcount.ts', run('grpc', 2, 4000, { mbPerSec: 250, reducePhaseMs: 700, processes }), 'sweep');
    expect(record).toMatchObject({
      run: 'mr run wordcount.ts', workers: 2, ok: true, seconds: 4, mbPerSecond: 250, peakRssKiB: 150_000, masterRssKiB: 90_000, workerRssKiB: 150_000,
      engineMs: 3700, mapPhaseMs: 3200, reducePhaseMs: 700, outputMatches: true, note: 'output matches the plain loop', reusedFrom: 'sweep',
    });
    expect(fromBenchRun('mr run wordcount.ts', run('grpc', 1, 10, { ok: false, error: 'exit 1', outputMatches: undefined }))).toMatchObject({ ok: false, seconds: null, note: 'FAILED: exit 1' });
  });

  it('renders every section, and lists what makes figures untrustworthy', () => {
    const machine = { cpuModel: 'Test CPU', cores: 2, totalMemoryBytes: 2 ** 33, node: 'v20', platform: 'linux', date: '2026-01-01' };
    const md = standardMarkdown(machine, true, sections(), evaluateTargets(sections()));
    expect(md).toContain('Machine: Test CPU, 2 cores, 8.0 GiB memory');
    expect(md).toContain('**Quick mode**');
    expect(md).toContain('| 2 workers vs the sequential loop | >= 1.8x | 1.90x (grpc x2, 256 MiB) | met |');
    expect(md).toContain('Speedup of hypercube: against grpc x1, since it has no run with so few workers.');
    for (const heading of ['## Sweep', '## Baselines', '## Input-size scaling', '## Start-up', '## Scheduling throughput', '## Memory']) expect(md).toContain(heading);
    // The word count: a table per corpus, in order, then the ratios with a column per corpus.
    expect(md.indexOf('## Word count, realistic vocabulary, 256 MiB corpus')).toBeLessThan(md.indexOf('## Word count, large vocabulary, 256 MiB corpus'));
    expect(md).toContain('| mr run wordcount.ts | 1 | 15.20 | 65.8 | 15.00 | 12.00 | 3.00 | 195 |');
    expect(md).toContain('| generic ratio: plain loop of the string functions / mr run wordcount-strings.ts x2 | 2.10x | 2.10x |');
    expect(md).toContain('| built-in word count, 2 workers, end to end | >= 100 MB/s | 125.0 MB/s (realistic, 256 MiB) | met |');
    expect(problemsOf(sections())).toEqual([]);
    const broken = sections();
    broken.sweep!.identical = false;
    broken.sweep!.runs.push(run('ssi', 2, 0, { ok: false, error: 'boom' }));
    expect(problemsOf(broken)).toEqual(['ssi x2 #1 failed: boom', 'sweep: the runs did not all write the same output']);
  });

  it('takes small sizes with --quick, overrides, and refuses an unknown section', () => {
    const quick = parseStandardOptions(['--quick', '--tiny-files', '7']);
    expect(quick).toMatchObject({ sweepMib: 16, scalingMib: [8, 16, 32, 64], tinyFiles: 7, memoryMib: 64 });
    expect(quick.outDir).toMatch(/bench\/results\/quick$/);
    expect(parseStandardOptions([])).toMatchObject({ sweepMib: 256, scalingMib: [64, 128, 256, 512], tinyFiles: 10_000, memoryMib: 1024, workers: [1, 2, 4], nodes: [2, 4] });
    expect(parseStandardOptions(['--machines', '']).machines).toEqual([]);
    expect(() => parseStandardOptions(['--skip', 'sweep,nope'])).toThrow(/no section "nope"/);
    expect([...parseStandardOptions(['--skip', 'wordcount,sweep']).skip]).toEqual(['wordcount', 'sweep']);
    expect(() => parseStandardOptions(['--help'])).toThrow(/sections: sweep, baselines, wordcount, scaling/);
  });
});

describe('start-up steps', () => {
  it('take the master from mr run, the last worker to start and register, and the first task', () => {
    const steps = startupSteps([
      { role: 'master', startup: { startedMs: 0, engineMs: 200, readyMs: 300 } },
      { role: 'worker', startup: { startedMs: 50, engineMs: 250, readyMs: 350, firstTaskMs: 360 } },
      { role: 'worker', startup: { startedMs: 60, engineMs: 270, readyMs: 380, firstTaskMs: 400 } },
    ]);
    expect(steps).toEqual({ masterEngineMs: 200, masterReadyMs: 300, workersStartedMs: 60, workersReadyMs: 380, firstTaskMs: 360 });
    expect(startupSteps([{ role: 'master', startup: {} }])).toBeUndefined();
  });
});
