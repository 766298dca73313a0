// Whether `mr run` runs its job uber: its tasks in its own process, on one in-process worker over
// the memory wire, with no worker processes to start (see docs/running.md#uber-mode). Decided
// here for good, from the parsed options and the expanded input; bin/uber-input.mjs holds the
// limits and the options that turn it off, and the early guess bin/mr.mjs makes from argv.
import { isObjectUrl } from '../storage/object-store.ts';
import { statSync } from 'node:fs';
import { builtinOf } from '../core/builtins.ts';
import type { JobDefinition } from '../core/job.ts';
import { UBER_MAX_INPUT_BYTES, UBER_MAX_INPUT_FILES, UBER_OFF_OPTIONS, uberOffByEnv } from '../../bin/uber-input.mjs';

const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** args: mr run's parsed options, camel-cased (uber: false for --no-uber); inputFiles: the expanded --input, absolute. */
export function runsUber(args: { uber?: boolean }, inputFiles: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (args.uber === false || uberOffByEnv(env)) return false;
  const given = args as Record<string, unknown>;
  if (UBER_OFF_OPTIONS.some((name) => given[camelCase(name)] !== undefined)) return false;
  if (inputFiles.length > UBER_MAX_INPUT_FILES || inputFiles.some(isObjectUrl)) return false;
  // Synchronous: a stat of at most a few files costs microseconds.
  return inputFiles.reduce((sum, file) => sum + statSync(file).size, 0) <= UBER_MAX_INPUT_BYTES;
}

/**
 * Whether a job runs only the engine's own code in its tasks: built-in map, combine and reduce,
 * no partition function. Only such a job runs uber: a job's own function could loop for ever or
 * exit its process, and only a worker process (its watchdog, its death seen by the master)
 * contains that; inside mr run it would hold or end mr run itself.
 */
export function runsOnlyBuiltins(job: JobDefinition): boolean {
  return builtinOf(job.map) !== undefined && builtinOf(job.reduce) !== undefined
    && (job.combine === undefined || builtinOf(job.combine) !== undefined) && job.partition === undefined
    && job.setup === undefined && job.cleanup === undefined;
}
