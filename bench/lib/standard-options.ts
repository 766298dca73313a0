// The options of the standard benchmark (bench/standard.ts): the full sizes by default, small
// ones with --quick, and an override per size so a test can run every section in seconds.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './progress.ts';

export const SECTIONS = ['sweep', 'baselines', 'wordcount', 'scaling', 'startup', 'scheduling', 'memory'] as const;
export type Section = (typeof SECTIONS)[number];

export interface StandardOptions {
  quick: boolean;
  outDir: string;
  skip: Set<Section>;
  repeat: number;
  reducers: number;
  /** The sweep: corpus size, the worker-sized backends and their counts, the node-sized machines and theirs. */
  sweepMib: number;
  transports: string[];
  workers: number[];
  machines: string[];
  nodes: number[];
  scalingMib: number[];
  scalingWorkers: number[];
  startupRepeat: number;
  tinyFiles: number;
  memoryMib: number;
  memoryWorkers: number;
}

const FULL = { sweepMib: 256, scalingMib: [64, 128, 256, 512], tinyFiles: 10_000, memoryMib: 1024 };
const QUICK = { sweepMib: 16, scalingMib: [8, 16, 32, 64], tinyFiles: 200, memoryMib: 64 };

export const USAGE = `usage: npm run bench -- [--quick] [--out dir] [--skip section,...] [--repeat N]
  sections: ${SECTIONS.join(', ')}
  overrides: --sweep-mib N --transports a,b --workers 1,2,4 --machines a,b --nodes 2,4
             --scaling-mib 64,128 --scaling-workers 1,2 --startup-repeat N --tiny-files N --memory-mib N --reducers N`;

function whole(text: string, option: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${option} wants a whole number of at least ${min}, not ${JSON.stringify(text)}\n${USAGE}`);
  return n;
}

function wholes(text: string, option: string): number[] {
  return names(text).map((part) => whole(part, option));
}

/** A comma-separated list; empty is allowed (e.g. --machines '' for no simulated machines). */
function names(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseStandardOptions(argv: string[]): StandardOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      skip: { type: 'string', default: '' },
      repeat: { type: 'string', default: '1' },
      reducers: { type: 'string', default: '4' },
      'sweep-mib': { type: 'string' },
      transports: { type: 'string', default: 'grpc,ssi,horizontal' },
      workers: { type: 'string', default: '1,2,4' },
      machines: { type: 'string', default: 'hypercube,butterfly' },
      nodes: { type: 'string', default: '2,4' },
      'scaling-mib': { type: 'string' },
      'scaling-workers': { type: 'string', default: '1,2' },
      'startup-repeat': { type: 'string', default: '5' },
      'tiny-files': { type: 'string' },
      'memory-mib': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  const sizes = values.quick ? QUICK : FULL;
  const skip = names(values.skip).map((name) => {
    if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--skip: no section ${JSON.stringify(name)}; sections: ${SECTIONS.join(', ')}`);
    return name as Section;
  });
  return {
    quick: values.quick,
    // A quick run's figures are not the project's results, so by default they stay out of latest.*.
    outDir: values.out ? resolve(values.out) : resolve(REPO_ROOT, 'bench', 'results', ...(values.quick ? ['quick'] : [])),
    skip: new Set(skip),
    repeat: whole(values.repeat, 'repeat'),
    reducers: whole(values.reducers, 'reducers'),
    sweepMib: values['sweep-mib'] ? whole(values['sweep-mib'], 'sweep-mib') : sizes.sweepMib,
    transports: names(values.transports),
    workers: wholes(values.workers, 'workers'),
    machines: names(values.machines),
    nodes: wholes(values.nodes, 'nodes'),
    scalingMib: values['scaling-mib'] ? wholes(values['scaling-mib'], 'scaling-mib') : sizes.scalingMib,
    scalingWorkers: wholes(values['scaling-workers'], 'scaling-workers'),
    startupRepeat: whole(values['startup-repeat'], 'startup-repeat'),
    tinyFiles: values['tiny-files'] ? whole(values['tiny-files'], 'tiny-files') : sizes.tinyFiles,
    memoryMib: values['memory-mib'] ? whole(values['memory-mib'], 'memory-mib') : sizes.memoryMib,
    memoryWorkers: 2,
  };
}

/** Generous, so only a hung run is stopped: two minutes plus 4 s per MiB. */
export function runTimeoutMs(mib: number): number {
  return (120 + 4 * mib) * 1000;
}
