// Loads a job module (TypeScript or JavaScript, anywhere on disk) and checks its shape. A job
// is compiled first (job-compiler.ts) and imported by the hash of what it compiled to: the
// code a task runs is the code of the file and its imports as they are, never a module loaded
// earlier from the same path.
import { stat } from 'node:fs/promises';
import { jobProblem, type JobDefinition } from '../core/job.ts';
import { JobModuleError, TaskError, oneLine } from '../errors.ts';
import { compileJob } from './job-compiler.ts';

export interface LoadedJob {
  job: JobDefinition;
  hash: string;          // what the job compiled to: a job's spec carries it from submission on
}

/**
 * Nothing to get ready any more (a job is compiled to plain JavaScript, so no loader hooks);
 * kept for the worker's start-up, which may overlap it with registration.
 */
export async function prepareJobLoading(): Promise<void> {
  await import('esbuild').catch(() => {}); // a failure is the first job import's to report
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
  let job = modules.get(compiled.url);
  if (!job) {
    job = importJob(path, compiled.url);
    modules.set(compiled.url, job);
    job.catch(() => modules.delete(compiled.url));
  }
  return { job: await job, hash: compiled.hash };
}

const submitted = new Map<string, Promise<JobDefinition>>(); // by job, stage and the hash submitted

/**
 * The job a task of a submitted job runs: loaded once per job and stage in this process, and
 * only when it is still the code that was submitted (hash: from the job's spec; empty when the
 * submitter sent none, and then whatever the file holds when this process first loads it).
 */
export function loadSubmittedJob(path: string, hash: string, jobKey: string): Promise<JobDefinition> {
  const key = `${jobKey}\0${path}\0${hash}`;
  let job = submitted.get(key);
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
