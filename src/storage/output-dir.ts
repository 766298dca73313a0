// The rule for --output: a directory that does not exist yet, or is empty, where this process can
// really write. Nothing in an existing non-empty directory is ever touched; what a run created
// for its output it removes again when the run fails.
import { constants } from 'node:fs';
import { access, mkdir, readdir, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OutputExistsError, OutputNotWritableError } from '../errors.ts';

/** An output directory made ready for a run: `created` lists the directories it made, outermost first. */
export interface OutputClaim {
  dir: string;
  created: string[];
}

const ADVICE = 'give --output a directory you can write to';

/** Checks the output without creating anything (the master's check at submission). */
export async function checkOutputDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info) await checkEmptyDir(dir, info.isDirectory());
  await checkWritable(dir, info !== undefined);
  await checkRegularFs(dir, info ? dir : await nearestExisting(dir));
}

async function nearestExisting(dir: string): Promise<string> {
  let at = dirname(dir);
  while (dirname(at) !== at && !(await stat(at).catch(() => undefined))) at = dirname(at);
  return at;
}

/**
 * Makes the output directory ready before anything runs: creates it (and missing parents) and
 * writes and removes a probe file in it. access() is not enough: as root it says yes where a
 * write fails (read-only mounts, /proc, /sys), and a job must not run for an hour to fail at its
 * commit. On any problem what was created is removed again and the error names the path.
 */
export async function claimOutputDir(dir: string): Promise<OutputClaim> {
  const info = await stat(dir).catch(() => undefined);
  const claim: OutputClaim = { dir, created: [] };
  try {
    if (info) {
      await checkEmptyDir(dir, info.isDirectory());
      await checkRegularFs(dir, dir);
    } else {
      await createChain(dir, claim.created);
    }
    await probe(dir);
  } catch (error) {
    await removeCreated(claim.created); // only that: an existing directory refused here is never touched
    throw error;
  }
  return claim;
}

/**
 * After a failed or killed run: removes the engine's files from the output (part files, their
 * temporary names, _SUCCESS, a chain's unfinished stage-k directories), then the directories the
 * run created, innermost first. A chain's committed stages (their _SUCCESS written) stay: they
 * are complete results. A directory that still holds anything else is left as it is.
 */
export async function releaseOutputDir(claim: OutputClaim): Promise<void> {
  await removeEngineFiles(claim.dir);
  await removeCreated(claim.created);
}

/** Only undoes the claim's mkdirs (a check before a job elsewhere writes there): files are never touched. */
export async function dropClaim(claim: OutputClaim): Promise<void> {
  await removeCreated(claim.created);
}

/** Removes the directories made, innermost first, each only if empty. */
async function removeCreated(created: readonly string[]): Promise<void> {
  for (const dir of [...created].reverse()) await rmdir(dir).catch(() => undefined);
}

/** The directories from first down to dir (first an ancestor of dir, or dir), outermost first; none when dir is not below first. */
export function dirsFrom(first: string, dir: string): string[] {
  const chain: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    chain.unshift(at);
    if (at === first) return chain;
    if (dirname(at) === at) return [];
  }
}

const ENGINE_FILE = /^(part-r-\d{5}|\.part-r-\d{5}\..*\.tmp|_SUCCESS)$/;

async function removeEngineFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (ENGINE_FILE.test(name)) await rm(join(dir, name), { force: true });
    else if (/^stage-\d+$/.test(name)) {
      const stage = await readdir(join(dir, name)).catch(() => [] as string[]);
      if (stage.includes('_SUCCESS')) continue;
      await removeEngineFiles(join(dir, name));
      await rmdir(join(dir, name)).catch(() => undefined);
    }
  }
}

async function checkEmptyDir(dir: string, isDirectory: boolean): Promise<void> {
  if (!isDirectory) throw new OutputExistsError(`output ${dir} exists and is not a directory; give --output a new directory`);
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new OutputExistsError(`output directory ${dir} is not empty (${entries.length} entries); give --output a new or empty directory`);
  }
}

/** mkdir of each missing directory from the nearest existing one down, each recorded as it is made. */
async function createChain(dir: string, created: string[]): Promise<void> {
  const missing: string[] = [];
  let at = dir;
  let info = await stat(at).catch(() => undefined);
  while (!info && dirname(at) !== at) {
    missing.unshift(at);
    at = dirname(at);
    info = await stat(at).catch(() => undefined);
  }
  if (info && !info.isDirectory()) throw new OutputNotWritableError(`cannot create output directory ${dir}: ${at} is a file, not a directory; ${ADVICE}`);
  await checkRegularFs(dir, at);
  for (const path of missing) {
    try {
      await mkdir(path);
    } catch (error) {
      throw new OutputNotWritableError(`cannot create output directory ${dir}: ${dirname(path)} is not writable ${describe(error)}; ${ADVICE}`);
    }
    created.push(path);
  }
}

async function probe(dir: string): Promise<void> {
  const file = join(dir, `.mr-probe-${process.pid}`);
  try {
    await writeFile(file, '', { flag: 'wx' });
  } catch (error) {
    throw new OutputNotWritableError(`cannot write to output directory ${dir} ${describe(error)}; ${ADVICE}`);
  }
  await rm(file, { force: true });
}

// Kernel file systems that hold no files of ours: writing there fails late, or oddly (ENOENT on
// /proc, EPERM on /sys), so they are named as what they are.
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc', 0x62656572: 'sysfs', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2', 0x64626720: 'debugfs',
  0x74726163: 'tracefs', 0x1cd1: 'devpts', 0x73636673: 'securityfs', 0x6165676c: 'pstore', 0xcafe4a11: 'bpf',
  0x62656570: 'configfs', 0xf97cff8c: 'selinuxfs', 0xde5e81e4: 'efivarfs', 0x42494e4d: 'binfmt_misc',
};

async function checkRegularFs(dir: string, at: string): Promise<void> {
  const fs = await statfs(at).catch(() => undefined);
  const name = fs && PSEUDO_FS[fs.type];
  if (name) {
    throw new OutputNotWritableError(`cannot use output directory ${dir}: ${at} is on ${name}, not a regular file system; ${ADVICE}`);
  }
}

/** An errno and what it means, in words: (EROFS: read-only file system). */
function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    EROFS: 'read-only file system', EACCES: 'permission denied', EPERM: 'operation not permitted', ENOTDIR: 'not a directory',
    ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', ENOENT: 'cannot be created there',
  };
  return code ? `(${code}${words[code] ? `: ${words[code]}` : ''})` : `(${(error as Error).message})`;
}

/**
 * The directory, or the nearest existing one above it (where it will be created), must be
 * writable. access() also says EROFS on a read-only file system, where permission bits would say yes.
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
    const what = at === dir ? `cannot write to output directory ${dir}` : `cannot create output directory ${dir}: ${at} is not writable`;
    throw new OutputNotWritableError(`${what} ${describe(error)}; ${ADVICE}`);
  }
}
