// The rule for --output: a directory that does not exist yet, or is empty. Nothing in an
// existing non-empty directory is ever touched.
import { readdir, stat } from 'node:fs/promises';
import { OutputExistsError } from '../errors.ts';

export async function checkOutputDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new OutputExistsError(`output ${dir} exists and is not a directory; give --output a new directory`);
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new OutputExistsError(`output directory ${dir} is not empty (${entries.length} entries); give --output a new or empty directory`);
  }
}
