// The job history of `mr run`'s own master: per job a directory <history>/<job-id>/ holding its
// final status (status.json) and every attempt's log (logs.json), put in place whole (a temporary
// directory renamed), the newest few kept, so `mr status` and `mr logs` work after the run.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttemptLog, JobStatus } from '../wires/messages.ts';

export interface HistoryRecord {
  status: JobStatus;
  attempts: AttemptLog[];
}

const TEMP_PREFIX = '.tmp-';
// A temporary directory this old was left by a process that died while writing it.
const STALE_TEMP_MS = 60 * 60 * 1000;

/** A job id that names a directory of the history, never a path out of it. */
export function isHistoryName(jobId: string): boolean {
  return /^[\w][\w.-]*$/.test(jobId) && !jobId.startsWith(TEMP_PREFIX);
}

/** Puts the job's record in place, replacing an older one of the same id, then prunes to keepJobs. */
export async function saveJobRecord(historyDir: string, record: HistoryRecord, keepJobs: number): Promise<string> {
  const jobId = record.status.jobId;
  if (!isHistoryName(jobId)) throw new Error(`job id ${jobId} cannot name a history directory`);
  // Private: an attempt's log holds whatever the job's code printed.
  await mkdir(historyDir, { recursive: true, mode: 0o700 });
  const temp = join(historyDir, `${TEMP_PREFIX}${jobId}-${randomBytes(4).toString('hex')}`);
  const target = join(historyDir, jobId);
  try {
    await mkdir(temp);
    await writeFile(join(temp, 'status.json'), JSON.stringify(record.status) + '\n');
    await writeFile(join(temp, 'logs.json'), JSON.stringify({ attempts: record.attempts }) + '\n');
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  await pruneHistory(historyDir, keepJobs);
  return target;
}

/** The job's record, or undefined when the history has none (or only a part of one). */
export async function readJobRecord(historyDir: string, jobId: string): Promise<HistoryRecord | undefined> {
  if (!isHistoryName(jobId)) return undefined;
  try {
    const dir = join(historyDir, jobId);
    const status = JSON.parse(await readFile(join(dir, 'status.json'), 'utf8')) as JobStatus;
    const { attempts } = JSON.parse(await readFile(join(dir, 'logs.json'), 'utf8')) as { attempts: AttemptLog[] };
    return { status, attempts };
  } catch {
    return undefined;
  }
}

/** Every job's final status, oldest first (by when its record was written); the logs are not read. */
export async function listJobStatuses(historyDir: string): Promise<JobStatus[]> {
  const entries = await recordDirs(historyDir);
  const statuses = await Promise.all(entries.map(async ({ name }) => {
    try {
      return JSON.parse(await readFile(join(historyDir, name, 'status.json'), 'utf8')) as JobStatus;
    } catch {
      return undefined; // removed meanwhile by another run's pruning
    }
  }));
  return statuses.filter((s): s is JobStatus => s !== undefined).reverse(); // newest first, as a master lists them
}

/** Keeps the keepJobs newest records; removes the rest, and temporary directories left by a crash. */
export async function pruneHistory(historyDir: string, keepJobs: number, nowMs = Date.now()): Promise<void> {
  const entries = await recordDirs(historyDir);
  const old = entries.slice(0, Math.max(0, entries.length - keepJobs));
  const names = await readdir(historyDir).catch(() => [] as string[]);
  const temps = [];
  for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
    const info = await stat(join(historyDir, name)).catch(() => undefined);
    if (info && nowMs - info.mtimeMs > STALE_TEMP_MS) temps.push(name);
  }
  await Promise.all([...old.map((e) => e.name), ...temps].map((name) => rm(join(historyDir, name), { recursive: true, force: true })));
}

/** The records' directories, oldest first; the name breaks a tie. */
async function recordDirs(historyDir: string): Promise<{ name: string; mtimeMs: number }[]> {
  const names = await readdir(historyDir).catch(() => [] as string[]);
  const entries = await Promise.all(names.filter(isHistoryName).map(async (name) => {
    const info = await stat(join(historyDir, name)).catch(() => undefined);
    return info?.isDirectory() ? { name, mtimeMs: info.mtimeMs } : undefined;
  }));
  return entries.filter((e): e is { name: string; mtimeMs: number } => e !== undefined)
    .sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
