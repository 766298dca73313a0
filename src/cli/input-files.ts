// `--input`: globs expanded to the sorted, absolute paths of readable files, before anything is
// submitted. A plain path (nothing fast-glob would read as a pattern) is looked at directly:
// loading fast-glob costs a tiny job some 15-30 ms of its start-up.
import { accessSync, constants, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputNotFoundError, InputUnreadableError, oneLine } from '../errors.ts';
import { isObjectUrl, listObjects } from '../storage/object-store.ts';

/** No character that fast-glob reads as a pattern (it names the file itself, as fast-glob would match it). */
const PLAIN_PATH = /^[^*?[\]{}()!+@\\]+$/;

/**
 * Expands each glob (sorted, absolute). Directories it matches are skipped; a glob that matches
 * no file is an error, and so is a file this process cannot read (before anything is submitted).
 */
export async function expandInputs(globs: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  const objects = new Set<string>();
  for (const glob of globs) {
    if (isObjectUrl(glob)) {
      const listed = await listObjects(glob);
      if (listed.length === 0) throw new InputNotFoundError(`--input ${glob} matches no object; check the bucket and prefix, and quote the glob`);
      for (const object of listed) objects.add(object.url);
      continue;
    }
    const matches = plainFile(glob) ?? await globbed(glob);
    if (matches.length === 0) {
      if ((await stat(glob).catch(() => undefined))?.isDirectory()) {
        throw new InputNotFoundError(`--input ${glob} is a directory; give a glob of its files, like '${glob.replace(/\/+$/, '')}/*'`);
      }
      throw new InputNotFoundError(`--input ${glob} matches no file; check the path, and quote the glob`);
    }
    for (const match of matches) files.add(match);
  }
  const sorted = [...files].sort();
  // Synchronous, as the text check after it: a few microseconds a file, not tens.
  for (const file of sorted) {
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw new InputUnreadableError(`cannot read input file ${file} (${(error as NodeJS.ErrnoException).code ?? oneLine(error)}); check its permissions`);
    }
  }
  return [...sorted, ...[...objects].sort()];
}

/** A plain path to a file (through symbolic links): [its absolute path], as fast-glob gives it; else undefined (fast-glob decides). */
function plainFile(glob: string): string[] | undefined {
  if (!PLAIN_PATH.test(glob)) return undefined;
  const path = resolve(glob);
  return statSync(path, { throwIfNoEntry: false })?.isFile() ? [path] : undefined;
}

async function globbed(glob: string): Promise<string[]> {
  const { default: fg } = await import('fast-glob');
  return fg(glob, { absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: true });
}
