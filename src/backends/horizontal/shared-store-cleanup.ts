// A job's map outputs leave the horizontal backend's shared store once the job is over (succeeded,
// failed or killed): nothing reads them after its last reduce. Their names begin with the job's id
// (an output is named by its map attempt, `<job>.s<stage>.map-<i>.a<k>`). A server's attempt that
// publishes after this (a straggler of a finished job) leaves its output behind.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deletePrefix, isObjectUrl, objectIn } from '../../storage/object-store.ts';

export async function dropJobMapOutputs(sharedDir: string, jobId: string): Promise<void> {
  const family = `${jobId}.`;
  if (isObjectUrl(sharedDir)) {
    await deletePrefix(objectIn(sharedDir, `map-out/${family}`));
    return;
  }
  const root = join(sharedDir, 'map-out');
  const names = await readdir(root).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.startsWith(family)).map((name) => rm(join(root, name), { recursive: true, force: true })));
}
