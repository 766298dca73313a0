// A map task reads its input as it was when the job was submitted: the master records each file's
// size and modification time in its splits, and the task compares them before and after reading.
// A file that changed in between fails the attempt, naming the file, instead of mixing old and new.
import { statSync } from 'node:fs';
import { MrError, TaskError, oneLine } from '../errors.ts';
import { isObjectUrl, statObject } from '../storage/object-store.ts';
import type { InputSplit } from '../wires/messages.ts';

// A split smaller than this is checked once, after it was read: a change before the read shows
// then too, and the check before would double the per-file cost of many small files.
const CHECK_BEFORE_BYTES = 1 << 20;

/** The records read from split, between two checks that its file is still as submitted (one, after, for a small split). */
export async function* readAsSubmitted<T>(split: InputSplit, read: () => AsyncIterable<T>): AsyncGenerator<T> {
  const object = isObjectUrl(split.path);   // an object is looked at once, after: a HEAD costs a round trip
  if (!object && split.end - split.start >= CHECK_BEFORE_BYTES) checkUnchanged(split);
  const records = read()[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<T>;
      try {
        next = await records.next();
      } catch (error) {
        throw error instanceof MrError ? error : new TaskError(`cannot read input file ${split.path}: ${oneLine(error)}`);
      }
      if (next.done) break;
      yield next.value;
    }
  } finally {
    // A map that throws ends this generator early; the reader must close its file now, not on GC.
    await records.return?.();
  }
  if (object) await checkObjectUnchanged(split);
  else checkUnchanged(split);
}

/** An object of the object store: the same size and modification time as when the stage started. */
async function checkObjectUnchanged(split: InputSplit): Promise<void> {
  const info = await statObject(split.path).catch((error: unknown) => {
    throw error instanceof MrError ? new TaskError(error.message) : error;
  });
  if (!split.mtimeMs) return;
  if (info.sizeBytes !== split.fileBytes || info.mtimeMs !== split.mtimeMs) {
    throw new TaskError(`input object ${split.path} changed after the job was submitted (${split.fileBytes} bytes then, ${info.sizeBytes} now); run the job again on input that stays put while it runs`);
  }
}

/** Synchronous: a stat costs about 2 us so, against 15 or more through the thread pool, and a packed task makes one a file. */
function checkUnchanged(split: InputSplit): void {
  let info;
  try {
    info = statSync(split.path);
  } catch (error) {
    throw new TaskError(`cannot read input file ${split.path}: ${oneLine(error)}`);
  }
  if (!split.mtimeMs) return; // a split that carries no snapshot (journaled before there was one)
  const changes: string[] = [];
  if (info.size !== split.fileBytes) changes.push(`${split.fileBytes} bytes then, ${info.size} now`);
  if (info.mtimeMs !== split.mtimeMs) changes.push('modified since');
  if (changes.length > 0) {
    throw new TaskError(`input file ${split.path} changed after the job was submitted (${changes.join(', ')}); `
      + 'run the job again on input that stays put while it runs (a copy, say)');
  }
}
