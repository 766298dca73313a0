// The job module API: what a user's job file exports, and the checks `mr run` makes on it.
import { builtinOf } from './builtins.ts';

export type InputMode = 'lines' | 'file' | 'records';

import type { Emit } from './emit.ts';

export type { Emit };

export interface MapContext {
  /** Path of the input file this record came from. */
  readonly file: string;
  /** The record's key, in 'records' input mode. */
  readonly key?: string;
  /** Job options given with `--set name=value`. */
  readonly options: Readonly<Record<string, string>>;
  /** Adds n (default 1) to a user counter, summed over committed attempts. */
  count(name: string, n?: number): void;
}

export type JobOptions = Readonly<Record<string, string>>;

export interface CombineContext {
  /** Job options given with `--set name=value` (and by prepare). */
  readonly options: JobOptions;
}

export interface ReduceContext extends CombineContext {
  /**
   * Writes a record of the reducer's own instead of the return value: for jobs whose output
   * keys are not their input keys (a ranking, say). Keys must come in increasing byte order
   * within a reducer, and no two reducers may write the same key.
   */
  emit(key: string, value: unknown): void;
}

/** What setup and cleanup are given: the task, and what the cluster offers it. */
export interface TaskContext {
  readonly kind: 'map' | 'reduce';
  /** The task's number within its kind (map 3, reduce 0). */
  readonly index: number;
  readonly attemptId: string;
  /** Job options given with `--set name=value` (and by prepare). */
  readonly options: JobOptions;
  /**
   * Takes the cluster-wide lock `name`, waiting while another task anywhere holds it; resolves
   * to its release. It is held under the node's etcd lease: a node that dies (or is cut off)
   * loses its locks. Whatever the attempt still holds when it ends is released then. ssi only
   * (the locks live in etcd); elsewhere it rejects, saying so.
   */
  lock(name: string): Promise<() => Promise<void>>;
}

export interface PrepareInput {
  /** The input files of the job's first stage (empty for a later stage of a chain). */
  readonly files: readonly string[];
  readonly reducers: number;
  readonly options: JobOptions;
}

export interface JobDefinition<V = any, R = any> {
  input?: InputMode;
  // emit takes V: in a defineJob<number, number> job, a map that emits a string is a type error.
  map(value: string, emit: Emit<V>, ctx: MapContext): void;
  combine?(key: string, values: V[], ctx: CombineContext): V;
  reduce(key: string, values: V[], ctx: ReduceContext): R;
  partition?(key: string, reducers: number, options: JobOptions): number;
  reducers?: number;
  /** Runs in each attempt before its first record (Hadoop's setup): open what the task needs, take a lock. */
  setup?(ctx: TaskContext): void | Promise<void>;
  /** Runs in each attempt after its last record, or after it failed (Hadoop's cleanup). */
  cleanup?(ctx: TaskContext): void | Promise<void>;
  /** Runs once in `mr run` before submitting; the options it returns join the job's options. */
  prepare?(input: PrepareInput): Record<string, string> | Promise<Record<string, string>>;
}

/** Adds types to a job definition; at run time it returns the object unchanged. */
export function defineJob<V = any, R = any>(job: JobDefinition<V, R>): JobDefinition<V, R> {
  return job;
}

const INPUT_MODES: readonly InputMode[] = ['lines', 'file', 'records'];

/** Returns why a loaded module's default export is not a usable job, or undefined when it is. */
export function jobProblem(candidate: unknown): string | undefined {
  if (candidate === null || typeof candidate !== 'object') {
    return 'its default export is not a job object (export default defineJob({ map, reduce }))';
  }
  const job = candidate as Record<string, unknown>;
  const missing = ['map', 'reduce'].filter((name) => typeof job[name] !== 'function');
  if (missing.length > 0) return `its default export has no ${missing.join(' and no ')} function`;
  for (const name of ['combine', 'partition', 'prepare', 'setup', 'cleanup']) {
    if (job[name] !== undefined && typeof job[name] !== 'function') return `its ${name} is not a function`;
  }
  if (builtinOf(job.combine) === 'count') {
    return 'its combine is count, which would count partial counts; emit 1 and combine with sum';
  }
  if (job.input !== undefined && !INPUT_MODES.includes(job.input as InputMode)) {
    return `its input mode ${JSON.stringify(job.input)} is not one of ${INPUT_MODES.join(', ')}`;
  }
  if (job.reducers !== undefined && !(Number.isInteger(job.reducers) && (job.reducers as number) >= 1)) {
    return `its reducers (${String(job.reducers)}) is not a whole number of at least 1`;
  }
  return undefined;
}
