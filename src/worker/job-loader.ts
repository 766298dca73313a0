// Loads a job module (TypeScript or JavaScript, anywhere on disk) and checks its shape. A job
// is compiled first (job-compiler.ts) and imported by the hash of what it compiled to: the
// code a task runs is the code of the file and its imports as they are, never a module loaded
// earlier from the same path.
import { stat } from 'node:fs/promises';
import { jobProblem, type JobDefinition } from '../core/job.ts';
import { JobModuleError, TaskError, oneLine } from '../errors.ts';
import { compileJob, compiledByHash } from './job-compiler.ts';

export interface LoadedJob {
  job: JobDefinition;
  hash: string;          // what the job compiled to: a job's spec carries it from submission on
}

const modules = new Map<string, Promise<JobDefinition>>(); // by compiled module URL

/** Compiles and imports the job at path as it is now. */
export async function loadJob(path: string): Promise<LoadedJob> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new JobModuleError(`job module ${path} not found; give the path of a .ts or .js job file`);
  let compiled;
  try {
    compiled = await compileJob(path);
  } catch (error) {
    throw new JobModuleError(`job module ${path} does not load: ${compileProblem(error)}`);
  }
  return { job: await importOnce(path, compiled.url), hash: compiled.hash };
}

/** Imports a compiled module once per process. */
function importOnce(path: string, url: string): Promise<JobDefinition> {
  let job = modules.get(url);
  if (!job) {
    job = importJob(path, url);
    modules.set(url, job);
    job.catch(() => modules.delete(url));
  }
  return job;
}

const submitted = new Map<string, Promise<JobDefinition>>(); // by job, stage and the hash submitted

/**
 * The job a task of a submitted job runs: loaded once per job and stage in this process, and
 * only when it is still the code that was submitted (hash: from the job's spec; empty when the
 * submitter sent none, and then whatever the file holds when this process first loads it).
 * On the submitter's machine the compiled module of that hash is imported as it is; elsewhere
 * the file is compiled and must come to the same hash.
 */
export function loadSubmittedJob(path: string, hash: string, jobKey: string): Promise<JobDefinition> {
  const key = `${jobKey}\0${path}\0${hash}`;
  let job = submitted.get(key);
  const cached = job ? undefined : compiledByHash(hash);
  if (!job && cached) {
    job = importOnce(path, cached.url);
    submitted.set(key, job);
    job.catch(() => submitted.delete(key));
  }
  if (!job) {
    job = loadJob(path).then((loaded) => {
      if (hash && loaded.hash !== hash) {
        throw new TaskError(`job module ${path} changed after the job was submitted; submit the job again to run the new code`);
      }
      return loaded.job;
    });
    submitted.set(key, job);
    job.catch(() => submitted.delete(key));
  }
  return job;
}

async function importJob(path: string, url: string): Promise<JobDefinition> {
  // Stacks through the job's inline source map name the user's .ts file and line. Only modules
  // loaded from now on are mapped, so the engine's own modules pay nothing for it.
  process.setSourceMapsEnabled(true);
  let module: { default?: unknown };
  try {
    module = await import(url);
  } catch (error) {
    throw new JobModuleError(`job module ${path} does not load: ${oneLine(error)}`);
  }
  const problem = jobProblem(module.default);
  if (problem) throw new JobModuleError(`job module ${path} is not a job: ${problem}`);
  return module.default as JobDefinition;
}

/** esbuild's first error as one line, with where it is (file:line:column). */
function compileProblem(error: unknown): string {
  const first = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors?.[0];
  if (!first) return oneLine(error);
  const at = first.location ? ` (${first.location.file}:${first.location.line}:${first.location.column + 1})` : '';
  return `${first.text}${at}`;
}
