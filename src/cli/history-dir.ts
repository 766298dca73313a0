// Where `mr run` keeps the history of the jobs it ran on its own master: $MR_HOME/history, or
// ~/.mr/history; `mr status`, `mr list` and `mr logs` read it when no --master is given.
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

/** How many jobs the history keeps; older ones are removed as newer ones are written. */
export const HISTORY_JOBS = 100;

export function historyDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MR_HOME ? resolve(env.MR_HOME, 'history') : join(homedir(), '.mr', 'history');
}

/** The history directory, refused when it lies inside --output (which holds only part-r-* and _SUCCESS). */
export function historyOutside(outputDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = historyDir(env);
  if (outputDir.startsWith('s3://')) return dir;   // an object store's prefix holds no local directory
  const rel = relative(resolve(outputDir), dir);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new UsageError(`the job history (${dir}, from MR_HOME) lies inside --output ${outputDir}; set MR_HOME to a directory outside it`);
  }
  return dir;
}
