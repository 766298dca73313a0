// The rule for --output: a directory that does not exist yet, or is empty, where this process may
// write. Nothing in an existing non-empty directory is ever touched.
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OutputExistsError, OutputNotWritableError } from '../errors.ts';

export async function checkOutputDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info) {
    if (!info.isDirectory()) throw new OutputExistsError(`output ${dir} exists and is not a directory; give --output a new directory`);
    const entries = await readdir(dir);
    if (entries.length > 0) {
      throw new OutputExistsError(`output directory ${dir} is not empty (${entries.length} entries); give --output a new or empty directory`);
    }
  }
  await checkWritable(dir, info !== undefined);
}

/**
 * The directory, or the nearest existing one above it (where it will be created), must be
 * writable: a job must not run for an hour to fail at its commit. access() also says EROFS on a
 * read-only file system, where permission bits would say yes.
 */
async function checkWritable(dir: string, exists: boolean): Promise<void> {
  let at = dir;
  if (!exists) {
    while (dirname(at) !== at && !(await stat(dirname(at)).catch(() => undefined))) at = dirname(at);
    at = dirname(at);
  }
  try {
    await access(at, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'not writable';
    const what = at === dir ? `cannot write to output directory ${dir}` : `cannot create output directory ${dir}: ${at} is not writable`;
    throw new OutputNotWritableError(`${what} (${code}); give --output a directory you can write to`);
  }
}
