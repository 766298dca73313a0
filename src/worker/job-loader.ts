// Loads a job module (TypeScript or JavaScript, anywhere on disk) and checks its shape.
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { jobProblem, type JobDefinition } from '../core/job.ts';
import { JobModuleError, oneLine } from '../errors.ts';

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
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new JobModuleError(`job module ${path} does not load: ${oneLine(error)}`);
  }
  const problem = jobProblem(module.default);
  if (problem) throw new JobModuleError(`job module ${path} is not a job: ${problem}`);
  return module.default as JobDefinition;
}
