// The master's file work around a stage: where its output goes, which files a stage reads,
// writing _SUCCESS once every partition is in place, and clearing a failed stage's output.
import { statSync } from 'node:fs';
import { link, copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { partFileName } from '../core/record-codec.ts';
import type { InputFile } from '../core/splits.ts';
import { completeUpload, copyObject, isObjectUrl, objectIn, putEmpty, statObject } from '../storage/object-store.ts';
import type { PendingUpload } from '../wires/messages.ts';
import { failpoint } from '../failpoints.ts';

export const SUCCESS_FILE = '_SUCCESS';
/** A reduce attempt's part file before its commit: .part-r-NNNNN.<attempt>.tmp (see reduce-task.ts). */
const TEMP_PART_FILE = /^\.part-r-\d{5}\..*\.tmp$/;

/** Stage k of a chain writes to <out>/stage-k; a single-stage job writes to <out> itself. */
export function stageDir(outputDir: string, stage: number, stageCount: number): string {
  if (stageCount === 1) return outputDir;
  return isObjectUrl(outputDir) ? objectIn(outputDir, `stage-${stage}`) : join(outputDir, `stage-${stage}`);
}

export function partFiles(dir: string, reducers: number): string[] {
  return Array.from({ length: reducers }, (_, r) => join(dir, partFileName(r)));
}

/**
 * Each input's size and modification time. Synchronous: a stat costs about 2 us this way and
 * about 15 through the thread pool, and a job of 10,000 small files would otherwise wait a
 * sizeable share of its run on them.
 */
export async function statInputs(paths: readonly string[]): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const path of paths) {
    if (isObjectUrl(path)) {
      const { sizeBytes, mtimeMs } = await statObject(path);
      files.push({ path, sizeBytes, mtimeMs });
    } else {
      const info = statSync(path);
      files.push({ path, sizeBytes: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return files;
}

/**
 * Marks a stage complete: _SUCCESS is written only after checking every part file is there, and
 * after removing the temporary files of reduce attempts that died before their rename (a losing
 * attempt still alive removes its own).
 */
export async function commitStage(dir: string, reducers: number, uploads: (reducer: number) => PendingUpload | undefined = () => undefined): Promise<string[]> {
  if (isObjectUrl(dir)) return commitObjectStage(dir, reducers, uploads);
  const files = partFiles(dir, reducers);
  await Promise.all(files.map((file) => stat(file)));
  const leftovers = (await readdir(dir)).filter((name) => TEMP_PART_FILE.test(name));
  await Promise.all(leftovers.map((name) => rm(join(dir, name), { force: true })));
  failpoint('master.commit.before-success');
  await writeFile(join(dir, SUCCESS_FILE), '');
  return files;
}

/**
 * A stage whose output is in object storage: each reducer's part was uploaded and left
 * incomplete by the attempt whose report the master took; completing it makes the whole object
 * appear at once, once per reducer; then _SUCCESS. A part found complete already (a master that
 * died in the middle of this, started again) is left as it is.
 */
async function commitObjectStage(dir: string, reducers: number, uploads: (reducer: number) => PendingUpload | undefined): Promise<string[]> {
  const files = Array.from({ length: reducers }, (_, r) => objectIn(dir, partFileName(r)));
  for (let r = 0; r < reducers; r++) {
    const pending = uploads(r);
    if (!pending) throw new Error(`reducer ${r}'s part has no upload to complete`);
    await completeUpload(pending).catch(async (error: unknown) => {
      if (!(await statObject(files[r]).then(() => true, () => false))) throw error;
    });
  }
  failpoint('master.commit.before-success');
  await putEmpty(objectIn(dir, SUCCESS_FILE));
  return files;
}

/** Puts the last stage's files of a chain at the top of the output directory as well. */
export async function publishChainOutput(outputDir: string, files: readonly string[]): Promise<string[]> {
  if (isObjectUrl(outputDir)) {
    // Copied within the store (CopyObject: each copy appears whole), then _SUCCESS last.
    const published = await Promise.all(files.map(async (file) => {
      const target = objectIn(outputDir, file.slice(file.lastIndexOf('/') + 1));
      await copyObject(file, target);
      return target;
    }));
    await putEmpty(objectIn(outputDir, SUCCESS_FILE));
    return published;
  }
  const published: string[] = [];
  for (const file of files) {
    const target = join(outputDir, file.slice(file.lastIndexOf('/') + 1));
    await link(file, target).catch(() => copyFile(file, target));
    published.push(target);
  }
  await writeFile(join(outputDir, SUCCESS_FILE), '');
  return published;
}

/** Removes a failed or killed stage's part files and temporary files, never anything else. */
export async function clearStageOutput(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const ours = names.filter((name) => /^part-r-\d{5}$/.test(name) || TEMP_PART_FILE.test(name) || name === SUCCESS_FILE);
  await Promise.all(ours.map((name) => rm(join(dir, name), { force: true })));
}

/**
 * Removes the temporary part files of attempts that lost (a reduce cut off from the master, or
 * killed mid-write), from a stage's directory and its chain's stage directories. Only safe once
 * no attempt can still be writing: `mr run` calls it after its workers have exited.
 */
export async function removeAttemptLeftovers(outputDir: string): Promise<void> {
  const list = (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);
  const stages = (await list(outputDir)).filter((name) => /^stage-\d+$/.test(name));
  for (const dir of [outputDir, ...stages.map((name) => join(outputDir, name))]) {
    const leftovers = (await list(dir)).filter((name) => TEMP_PART_FILE.test(name));
    await Promise.all(leftovers.map((name) => rm(join(dir, name), { force: true })));
  }
}

/** Creates dir and missing parents; returns the first directory it created, if any. */
export async function ensureDir(dir: string): Promise<string | undefined> {
  if (isObjectUrl(dir)) return undefined;   // a prefix of an object store needs no making
  return mkdir(dir, { recursive: true });
}
