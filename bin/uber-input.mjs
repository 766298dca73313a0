// Uber mode (as Hadoop's: a small job runs inside its application master): `mr run` runs a tiny
// job's tasks in its own process, with no worker processes, when nothing in its options asks for
// them. This file holds the limits and the options that turn it off, and the guess bin/mr.mjs
// makes from argv alone before it loads the engine, so that it spawns no early workers for a run
// that will not use them. The engine decides for good from the expanded input
// (src/cli/uber-mode.ts); a wrong guess costs only a spawn, or the overlap. Node built-ins only.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * At most this much input in all, on disk (a .gz counts its compressed size). Worker processes
 * cost about 0.3-0.5 s to start and register (module loading, on every core); one in-process
 * worker maps 1 MiB in some 20-100 ms, so below this the processes cannot pay for themselves.
 */
export const UBER_MAX_INPUT_BYTES = 1024 * 1024;
/** At most this many input files (a map task each, at least), all run one after another. */
export const UBER_MAX_INPUT_FILES = 16;

/**
 * mr run's options that ask for what only worker processes or another cluster give: any of them
 * given, uber is off. --workers too: a user who sizes the pool wants it.
 */
export const UBER_OFF_OPTIONS = [
  'master', 'transport', 'workers', 'worker-heap-mib', 'task-timeout', 'worker-timeout-ms',
  'chaos', 'nodes', 'autoscale', 'tls-cert', 'tls-key', 'tls-ca', 'http',
];

/** Environment variables that turn it off: MR_NO_UBER (any value), and worker flags (MR_WORKER_NODE_ARGS) that only worker processes take. */
export function uberOffByEnv(env) {
  return !!env.MR_NO_UBER || !!(env.MR_WORKER_NODE_ARGS ?? '').trim();
}

const GLOB_MAGIC = /[*?[\]{}()!+@\\]/;
const SIMPLE_NAME_GLOB = /^[^[\]{}()!+@\\]*$/; // only * and ? beside literal characters

/**
 * The guess from argv (what follows `mr`): a `run` without the options above or --no-uber,
 * whose every --input is a plain path or a dir/<name with * and ?> glob whose files fit the limits.
 * Anything it cannot tell cheaply (other globs, a missing file) guesses no.
 */
export function looksUber(argv, env) {
  if (argv[0] !== 'run' || uberOffByEnv(env)) return false;
  const given = (name) => argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (given('no-uber') || argv.some((arg) => /^--uber=(false|0)$/.test(arg)) || UBER_OFF_OPTIONS.some(given)) return false;
  const inputs = inputValues(argv);
  if (inputs.length === 0) return false;
  const budget = { bytes: UBER_MAX_INPUT_BYTES, files: UBER_MAX_INPUT_FILES };
  return inputs.every((input) => fitsBudget(input, budget));
}

/** The values of --input (an array option: the words after it, up to the next option). */
function inputValues(argv) {
  const values = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--input=')) values.push(argv[i].slice('--input='.length));
    if (argv[i] !== '--input') continue;
    while (i + 1 < argv.length && !argv[i + 1].startsWith('-')) values.push(argv[++i]);
  }
  return values;
}

/** Takes the files of one --input from the budget; false when they overdraw it or cannot be told cheaply. */
function fitsBudget(input, budget) {
  const files = cheapMatches(input);
  if (!files || files.length === 0) return false;
  for (const file of files) {
    let size;
    try {
      const info = statSync(file);
      if (!info.isFile()) continue;
      size = info.size;
    } catch {
      return false;
    }
    budget.bytes -= size;
    budget.files -= 1;
    if (budget.bytes < 0 || budget.files < 0) return false;
  }
  return true;
}

/** The paths an --input names: itself when it is a plain path; the matching names of a dir/<simple glob>; else undefined. */
function cheapMatches(input) {
  if (!GLOB_MAGIC.test(input)) return [input];
  const dir = dirname(input);
  const name = basename(input);
  if (GLOB_MAGIC.test(dir) || !SIMPLE_NAME_GLOB.test(name)) return undefined;
  const pattern = new RegExp(`^${name.replace(/[.^$|]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  try {
    // Hidden files only when the pattern asks for them (fast-glob's dot: false).
    return readdirSync(dir).filter((entry) => pattern.test(entry) && (name.startsWith('.') || !entry.startsWith('.'))).map((entry) => join(dir, entry));
  } catch {
    return undefined;
  }
}
