// The rule for --output: a directory that does not exist yet, or is empty, where this process can
// really write, claimed by one run at a time (output-claim.ts). Nothing in an existing non-empty
// directory is ever touched; what a run created for its output it removes again when the run fails.
import { isObjectUrl, prefixHasObjects } from './object-store.ts';
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OutputExistsError, OutputNotWritableError } from '../errors.ts';
import { lockOutput, unlockOutput, type OutputLock } from './output-claim.ts';

/**
 * An output directory made ready for a run: `created` lists the directories it made, outermost
 * first; `lock` is the run's claim on it, held until the run ends.
 */
export interface OutputClaim {
  dir: string;
  created: string[];
  lock?: OutputLock;
}

const ADVICE = 'give --output a directory you can write to';

/**
 * Makes the output directory ready before anything runs, for owner (a job id): creates its
 * missing parents, claims it (the claim lives in its parent), then, under the claim, checks it
 * is empty or creates it, and writes and removes a probe file in it. access() is not enough: as
 * root it says yes where a write fails (read-only mounts, /proc, /sys), and a job must not run for
 * an hour to fail at its commit. On any problem what was created is removed again, the claim
 * released, and the error names the path; a run refused the claim touches nothing of the winner's.
 */
export async function claimOutputDir(dir: string, owner: string): Promise<OutputClaim> {
  // An output in object storage: new or empty (its parts appear only at the commit; nothing to make or lock).
  if (isObjectUrl(dir)) {
    if (await prefixHasObjects(dir)) throw new OutputExistsError(`output ${dir} is not empty; give --output a prefix with no object under it`);
    return { dir, created: [] };
  }
  const claim: OutputClaim = { dir, created: [] };
  try {
    const info = await stat(dir).catch(() => undefined);
    if (info && !info.isDirectory()) await checkEmptyDir(dir, false);
    claim.lock = await lockInParent(dir, owner, claim.created);
    const now = await stat(dir).catch(() => undefined);
    if (now) {
      await checkEmptyDir(dir, now.isDirectory());
      await checkRegularFs(dir, dir);
    } else {
      await createChain(dir, dir, claim.created);
    }
    await probe(dir);
  } catch (error) {
    dropClaim(claim); // only that: an existing directory refused here is never touched
    throw error;
  }
  return claim;
}

/**
 * Creates the parent (recording what it made) and claims dir there. A run that removes a parent
 * it made, as it fails, can take the parent away between the two: then both are done again.
 */
async function lockInParent(dir: string, owner: string, created: string[]): Promise<OutputLock> {
  for (let tries = 0; ; tries++) {
    await createChain(dirname(dir), dir, created);
    try {
      return await lockOutput(dir, owner);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && tries < 3) continue;
      if (code) throw new OutputNotWritableError(`cannot claim output directory ${dir}: ${dirname(dir)} is not writable ${describe(error)}; ${ADVICE}`);
      throw error;
    }
  }
}

/** Claims dir again for owner, creating nothing: a job the master resumes from its journal. */
export async function reclaimOutputDir(dir: string, owner: string): Promise<OutputClaim> {
  if (isObjectUrl(dir)) return { dir, created: [] };
  return { dir, created: [], lock: await lockOutput(dir, owner) };
}

/**
 * After a failed or killed run: removes the engine's files from the output (part files, their
 * temporary names, _SUCCESS, a chain's unfinished stage-k directories), then the directories the
 * run created, innermost first, and gives up the claim. A chain's committed stages (their
 * _SUCCESS written) stay: they are complete results. A directory that still holds anything else
 * is left as it is. Synchronous: it also runs in an exit handler. settleMs: workers were killed
 * an instant ago, and a file they were renaming may still land; the removal is repeated until a
 * pass finds nothing, for up to that long.
 */
export function releaseOutputDir(claim: OutputClaim, settleMs = 0): void {
  if (isObjectUrl(claim.dir)) return;   // nothing of a failed job's is visible there (see PendingUpload)
  const end = Date.now() + settleMs;
  while (removeEngineFiles(claim.dir) && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  dropClaim(claim);
}

/**
 * Only undoes the claim: the mkdirs (each only if empty, the output directory while still
 * claimed, its parents after: the claim file is in the innermost) and the claim. Files are never
 * touched. Synchronous, as releaseOutputDir.
 */
export function dropClaim(claim: OutputClaim): void {
  const [parents, own] = claim.created.at(-1) === claim.dir ? [claim.created.slice(0, -1), [claim.dir]] : [claim.created, []];
  removeCreated(own);
  if (claim.lock) unlockOutput(claim.lock);
  claim.lock = undefined;
  removeCreated(parents);
}

/** The run succeeded: its output stays, and so do the directories it made; the claim goes. */
export function endClaim(claim: OutputClaim): void {
  if (claim.lock) unlockOutput(claim.lock);
  claim.lock = undefined;
}

/** Removes the directories made, innermost first, each only if empty. */
function removeCreated(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (or gone): not ours to remove
    }
  }
}

const ENGINE_FILE = /^(part-r-\d{5}|\.part-r-\d{5}\..*\.tmp|_SUCCESS)$/;

/** Whether it found anything to remove. */
function removeEngineFiles(dir: string): boolean {
  const list = (at: string): string[] => {
    try {
      return readdirSync(at);
    } catch {
      return [];
    }
  };
  let found = false;
  for (const name of list(dir)) {
    if (ENGINE_FILE.test(name)) {
      rmSync(join(dir, name), { force: true });
      found = true;
    } else if (/^stage-\d+$/.test(name)) {
      if (list(join(dir, name)).includes('_SUCCESS')) continue;
      removeEngineFiles(join(dir, name));
      removeCreated([join(dir, name)]);
      found = true;
    }
  }
  return found;
}

async function checkEmptyDir(dir: string, isDirectory: boolean): Promise<void> {
  if (!isDirectory) throw new OutputExistsError(`output ${dir} exists and is not a directory; give --output a new directory`);
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new OutputExistsError(`output directory ${dir} is not empty (${entries.length} entries); give --output a new or empty directory`);
  }
}

/**
 * mkdir of each missing directory from the nearest existing one down to path, each recorded as it
 * is made (dir: the output, named in errors). One another run made meanwhile is not recorded.
 */
async function createChain(path: string, dir: string, created: string[]): Promise<void> {
  const missing: string[] = [];
  let at = path;
  let info = await stat(at).catch(() => undefined);
  while (!info && dirname(at) !== at) {
    missing.unshift(at);
    at = dirname(at);
    info = await stat(at).catch(() => undefined);
  }
  if (info && !info.isDirectory()) throw new OutputNotWritableError(`cannot create output directory ${dir}: ${at} is a file, not a directory; ${ADVICE}`);
  await checkRegularFs(dir, at);
  for (const next of missing) {
    try {
      await mkdir(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(next).catch(() => undefined))?.isDirectory()) continue;
      throw new OutputNotWritableError(`cannot create output directory ${dir}: ${dirname(next)} is not writable ${describe(error)}; ${ADVICE}`);
    }
    created.push(next);
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
