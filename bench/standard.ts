// The standard benchmark, in one command: the word-count sweep over backends and worker counts,
// the no-engine baselines, the word count against them on two corpora, input-size scaling, start-up time, scheduling throughput and memory,
// then the project's targets, each met or not. Writes latest.{json,md,svg,png} to bench/results.
// It reports figures and judges nothing but output correctness: it exits 1 only when a run
// failed or wrote a wrong output, never for a missed target.
// npm run bench -- [--quick] [--out dir] [--skip sweep,baselines,wordcount,scaling,startup,scheduling,memory] [--repeat N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import job from '../jobs/wordcount.ts';
import { PLOT_PACKAGES_HINT, speedupPlot } from '../src/bench/speedup-plot.ts';
import { transportNames } from '../src/backends/index.ts';
import { progress } from './lib/progress.ts';
import { machineInfo } from './lib/report.ts';
import { parseStandardOptions, type StandardOptions } from './lib/standard-options.ts';
import { runMemory, runScheduling, runStartup } from './lib/standard-probes.ts';
import { standardMarkdown } from './lib/standard-report.ts';
import { runScaling } from './lib/standard-scaling.ts';
import { corpusOf, runBaselines, runSweep } from './lib/standard-sweep.ts';
import { evaluateTargets, problemsOf, type StandardSections } from './lib/standard-targets.ts';
import { runWordcount, WORDCOUNT_VOCABS } from './lib/standard-wordcount.ts';

async function runSections(options: StandardOptions, scratch: string): Promise<StandardSections> {
  const sections: StandardSections = {};
  const wanted = (name: Parameters<typeof options.skip.has>[0]): boolean => !options.skip.has(name);
  if (wanted('sweep') || wanted('baselines')) {
    const corpus = await corpusOf(options.sweepMib);
    progress(`== baselines on ${corpus.path}${wanted('baselines') ? '' : ' (only the sequential loop: the sweep\'s reference)'}`);
    const { result, reference } = await runBaselines(job, corpus, wanted('baselines'));
    sections.baselines = result;
    if (wanted('sweep')) {
      progress(`== sweep: ${options.transports.join(', ')} x ${options.workers.join(',')}; ${options.machines.join(', ') || 'no machines'} x ${options.nodes.join(',')} nodes`);
      sections.sweep = await runSweep(options, corpus, reference, scratch);
    }
  }
  if (wanted('wordcount')) {
    progress(`== wordcount: built-in and string-function jobs vs their plain loops, the byte floor and the shell, ${options.sweepMib} MiB ${WORDCOUNT_VOCABS.join(' then ')}`);
    sections.wordcount = await runWordcount(options, sections, scratch);
  }
  if (wanted('scaling')) {
    progress(`== scaling: ${options.scalingMib.join(', ')} MiB at ${options.scalingWorkers.join(',')} workers`);
    sections.scaling = await runScaling(options, sections.sweep, scratch);
  }
  if (wanted('startup')) {
    progress(`== startup: ${options.startupRepeat} runs on a tiny input`);
    sections.startup = await runStartup(options, scratch);
  }
  if (wanted('scheduling')) {
    progress(`== scheduling: ${options.tinyFiles} tiny files`);
    sections.scheduling = await runScheduling(options, scratch);
  }
  if (wanted('memory')) {
    progress(`== memory: ${options.memoryMib} MiB at ${options.memoryWorkers} workers`);
    sections.memory = await runMemory(options, scratch);
  }
  return sections;
}

async function writeOutputs(options: StandardOptions, summary: Record<string, unknown>, markdown: string, sections: StandardSections): Promise<string[]> {
  mkdirSync(options.outDir, { recursive: true });
  const path = (ext: string): string => join(options.outDir, `latest.${ext}`);
  writeFileSync(path('json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(path('md'), `${markdown}\n`);
  const written = [path('json'), path('md')];
  if (sections.sweep) {
    const { rows, corpus } = sections.sweep;
    const plot = await speedupPlot(rows.map((r) => ({ backend: r.transport, workers: r.workers, speedup: r.speedup })), `word count speedup, ${corpus.mib} MiB corpus`);
    if (plot) {
      writeFileSync(path('svg'), plot.svg);
      writeFileSync(path('png'), plot.png);
      written.push(path('svg'), path('png'));
    } else {
      progress(`no speedup plot (its packages are optional; ${PLOT_PACKAGES_HINT})`);
    }
  }
  return written;
}

async function main(): Promise<void> {
  const options = parseStandardOptions(process.argv.slice(2));
  for (const t of [...options.transports, ...options.machines]) {
    if (!transportNames().includes(t)) throw new Error(`unknown backend ${t}; available: ${transportNames().join(', ')}`);
  }
  const started = performance.now();
  // Run outputs, spills and the tiny files live here, never in the repository.
  const scratch = await mkdtemp(join(tmpdir(), 'mr-bench-standard-'));
  let sections: StandardSections;
  try {
    sections = await runSections(options, scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const machine = machineInfo();
  const targets = evaluateTargets(sections);
  const markdown = standardMarkdown(machine, options.quick, sections, targets);
  const problems = problemsOf(sections);
  const summary = {
    benchmark: 'mr standard', quick: options.quick, machine, durationS: Math.round((performance.now() - started) / 1000),
    options: { ...options, skip: [...options.skip] }, problems, targets, sections,
  };
  const written = await writeOutputs(options, summary, markdown, sections);
  console.log(`${markdown}\n`);
  progress(`wrote ${written.join(', ')}`);
  for (const problem of problems) progress(`!!! ${problem}`);
  process.exitCode = problems.length ? 1 : 0;
}

main().catch((error: unknown) => {
  progress(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
