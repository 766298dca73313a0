// Loads a job module (TypeScript or JavaScript, anywhere on disk) and checks its shape.
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { jobProblem, type JobDefinition } from '../core/job.ts';
import { JobModuleError, oneLine } from '../errors.ts';

/** Registers the loaders a job module needs, when bin/mr.mjs left that to the first job import. */
const JOB_HOOKS = new URL('../../bin/job-hooks.mjs', import.meta.url).href;

async function beforeJobImport(): Promise<void> {
  await ((await import(JOB_HOOKS)) as { beforeJobImport(): Promise<void> }).beforeJobImport();
}

/**
 * Gets ready to import jobs (the loader thread, tsx) before the first task asks for one: a worker
 * calls this once it has registered, so that the cost overlaps with other workers' first tasks
 * instead of adding to the job's time when this worker gets its first one.
 */
export async function prepareJobLoading(): Promise<void> {
  await beforeJobImport().catch(() => {}); // a failure is the first job import's to report
}

const cache = new Map<string, Promise<JobDefinition>>();

export function loadJob(path: string): Promise<JobDefinition> {
  let job = cache.get(path);
  if (!job) {
    job = importJob(path);
    cache.set(path, job);
    job.catch(() => cache.delete(path));
  }
  return job;
}

async function importJob(path: string): Promise<JobDefinition> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new JobModuleError(`job module ${path} not found; give the path of a .ts or .js job file`);
  let module: { default?: unknown };
  try {
    await beforeJobImport();
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new JobModuleError(`job module ${path} does not load: ${oneLine(error)}`);
  }
  const problem = jobProblem(module.default);
  if (problem) throw new JobModuleError(`job module ${path} is not a job: ${problem}`);
  return module.default as JobDefinition;
}
