// `mr check <job.ts> [...]`: type-checks job files with the TypeScript compiler (`mr` resolved
// to this package, wherever the job lies), then loads each as `mr run` does. Exit 0 when clean,
// 1 on type errors, 2 when a file is missing or does not load as a job.
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, JobModuleError, MrError, UsageError } from '../errors.ts';
import { loadJob } from '../worker/job-loader.ts';
import { typeCheck } from './type-check.ts';

export interface CheckArgs {
  jobs: string[];
}

/** Thrown to end `mr check` with exit 1 once its diagnostics are printed. */
export class TypeErrorsFound extends MrError {
  override readonly exitCode = EXIT.jobFailed;
}

export async function checkCommand(args: CheckArgs): Promise<void> {
  const files = args.jobs.map((file) => resolve(file));
  for (const file of files) {
    if (!(await stat(file).catch(() => undefined))?.isFile()) {
      throw new JobModuleError(`job module ${file} not found; give the path of a .ts or .js job file`);
    }
  }
  const diagnostics = await checkTypes(files);
  await write(process.stdout, diagnostics.map((line) => `${line}\n`).join(''));
  for (const file of files) await loadJob(file); // the shape check of mr run; a JobModuleError is exit 2
  if (diagnostics.length > 0) throw new TypeErrorsFound(`${diagnostics.length} type error(s) in ${files.length} job file(s)`);
  process.stderr.write(`mr: ${files.length} job file(s) type-check and load\n`);
}

/**
 * `mr run --typecheck`: the same check before anything is submitted. The errors go to stderr
 * (stdout is --json's); any is a usage error. A missing file is left to mr run's own check.
 */
export async function typecheckBeforeRun(jobs: readonly string[]): Promise<void> {
  const files: string[] = [];
  for (const job of jobs) if ((await stat(resolve(job)).catch(() => undefined))?.isFile()) files.push(resolve(job));
  if (files.length === 0) return;
  const diagnostics = await checkTypes(files);
  if (diagnostics.length === 0) return;
  process.stderr.write(diagnostics.map((line) => `${line}\n`).join(''));
  throw new UsageError(`--typecheck: ${diagnostics.length} type error(s) in the job file(s); nothing was submitted`);
}

/** `file:line:col: message` lines, files shown relative to the working directory when under it. */
export async function checkTypes(files: readonly string[]): Promise<string[]> {
  const entry = fileURLToPath(new URL('../index.ts', import.meta.url));
  return (await typeCheck(files, entry)).map(({ file, line, column, message }) => {
    const shown = file === undefined ? 'mr' : displayPath(file);
    return file === undefined ? `${shown}: ${message}` : `${shown}:${line}:${column}: ${message}`;
  });
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((done) => (text === '' ? done() : stream.write(text, () => done())));
}

