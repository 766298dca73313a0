// The claim on an output directory: a file `.<name>.mr-claim` beside it (in its parent), made
// with O_EXCL, so that of runs given the same --output at the same moment exactly one wins:
// separate `mr run` processes, jobs on one master, or on several masters sharing the file system.
//
// Beside the directory, not in it: the output holds only the contract's files, even mid-run or
// after a kill -9, and the claim exists before the directory does, so a run that loses never
// creates, checks or removes anything there.
//
// A stale claim (its run was kill -9'd) blocks nobody for long: the claim records its owner (the
// job id), the pid and host of the process that holds it and that process's start time. A claim
// whose process is gone from this host, or whose pid now belongs to a newer process, is taken
// over by the next run. A claim from another host cannot be checked: it is refused, and the error
// names the file to remove once that run is known to be gone.
import { readFileSync, rmSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OutputClaimedError } from '../errors.ts';

export interface OutputLock {
  file: string;
  owner: string;
  adopted: boolean;   // the claim was this process's already for the same owner (mr run's own master): its taker releases it
}

interface ClaimRecord {
  owner: string;
  pid: number;
  host: string;
  startTicks?: string;  // the process's start time (Linux), so that a reused pid is not taken for the owner
  sinceMs: number;
}

const HOST = hostname();
// An unreadable claim is one being written this instant (O_EXCL create, then write), unless it is older than this.
const HALF_WRITTEN_MS = 10_000;

/** Where the claim on dir lives. */
export function claimFileOf(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.mr-claim`);
}

/**
 * Claims dir for owner (whose parent must exist), or throws OutputClaimedError when another live
 * run holds it. A claim this process holds for the same owner is adopted, not taken again.
 */
export async function lockOutput(dir: string, owner: string): Promise<OutputLock> {
  const file = claimFileOf(dir);
  const mine: ClaimRecord = { owner, pid: process.pid, host: HOST, startTicks: startTicksOf(process.pid), sinceMs: Date.now() };
  for (let tries = 0; tries < 3; tries++) {
    try {
      await writeFile(file, JSON.stringify(mine) + '\n', { flag: 'wx' });
      return { file, owner, adopted: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await readClaim(file);
    if (!held) continue; // released meanwhile
    const { record } = held;
    if (record && record.owner === owner && record.host === HOST && record.pid === process.pid) return { file, owner, adopted: true };
    if (!ownerGone(held)) throw claimedError(dir, file, record);
    await takeOver(dir, file, held.text);
  }
  throw new OutputClaimedError(`output directory ${dir} is being claimed by other runs right now; give --output another directory`);
}

/**
 * Gives the claim up (synchronous: it also runs in an exit handler). Only a claim this lock
 * took, and only while it still names this process: one taken over meanwhile is not touched.
 */
export function unlockOutput(lock: OutputLock): void {
  if (lock.adopted) return;
  try {
    const record = JSON.parse(readFileSync(lock.file, 'utf8')) as ClaimRecord;
    if (record.owner === lock.owner && record.pid === process.pid && record.host === HOST) rmSync(lock.file, { force: true });
  } catch {
    // gone already, or not ours
  }
}

interface HeldClaim {
  text: string;
  record?: ClaimRecord;
  ageMs: number;
}

async function readClaim(file: string): Promise<HeldClaim | undefined> {
  const [text, info] = await Promise.all([readFile(file, 'utf8').catch(() => undefined), stat(file).catch(() => undefined)]);
  if (text === undefined || !info) return undefined;
  let record: ClaimRecord | undefined;
  try {
    record = JSON.parse(text) as ClaimRecord;
  } catch {
    record = undefined;
  }
  return { text, record, ageMs: Date.now() - info.mtimeMs };
}

function ownerGone({ record, ageMs }: HeldClaim): boolean {
  if (!record || typeof record.pid !== 'number') return ageMs > HALF_WRITTEN_MS;
  if (record.host !== HOST) return false; // cannot be checked from here
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = startTicksOf(record.pid);
  return record.startTicks !== undefined && now !== undefined && now !== record.startTicks;
}

/**
 * Removes a stale claim, once: a guard file made with O_EXCL lets one run do it, so that two runs
 * that both found it stale cannot each remove the other's fresh claim. The caller then claims
 * as anyone does, and may still lose to a third run.
 */
async function takeOver(dir: string, file: string, staleText: string): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await writeFile(guard, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new OutputClaimedError(`output directory ${dir} is being claimed by another run right now (if no mr run is starting, remove ${guard}); give --output another directory`);
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => undefined)) === staleText) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

function claimedError(dir: string, file: string, record: ClaimRecord | undefined): OutputClaimedError {
  if (!record) return new OutputClaimedError(`output directory ${dir} is being claimed by another run right now; give --output another directory`);
  const since = new Date(record.sinceMs).toISOString();
  const where = `pid ${record.pid} on ${record.host === HOST ? 'this host' : `host ${record.host}`}, since ${since}`;
  const clear = record.host === HOST ? '' : ` (if that run is gone, remove ${file})`;
  return new OutputClaimedError(`output directory ${dir} is being written by job ${record.owner} (${where}); give --output another directory${clear}`);
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; undefined off Linux. */
function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
