// Map outputs of the horizontal backend's servers kept in object storage (--shared-dir
// s3://bucket/prefix/), for servers that share no disk: a map attempt writes its partitions on its
// server's own disk, then publishes each as an object of its own (a PUT is atomic: a reader sees
// a partition whole or not at all; an attempt sent twice writes the same bytes twice). A reducer
// on any server reads them by ranged GETs, as it would an input.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MapOutputStore } from '../../storage/map-output-store.ts';
import { deletePrefix, objectIn, putObject, statObject } from '../../storage/object-store.ts';
import type { RunRef } from '../../storage/run-file.ts';

const PARTITION_FILE = /^r-\d+$/;

export class ObjectOutputStore extends MapOutputStore {
  /** prefixUrl: s3://bucket/prefix; workDir: where attempts write before they publish. */
  constructor(private readonly prefixUrl: string, workDir: string) {
    super(join(workDir, 'map-staging'));
  }

  private objectOf(outputId: string, partition: number): string {
    return objectIn(this.prefixUrl, `map-out/${outputId}/r-${partition}`);
  }

  override async publish(outputId: string): Promise<void> {
    const dir = this.dir(outputId);
    const names = (await readdir(dir)).filter((name) => PARTITION_FILE.test(name));
    await Promise.all(names.map(async (name) => putObject(this.objectOf(outputId, Number(name.slice(2))), await readFile(join(dir, name)))));
    await rm(dir, { recursive: true, force: true });
  }

  override async localRun(outputId: string, partition: number): Promise<RunRef | undefined> {
    const url = this.objectOf(outputId, partition);
    return (await statObject(url).then(() => true, () => false)) ? url : undefined;
  }

  override async has(outputId: string): Promise<boolean> {
    return (await this.localRun(outputId, 0)) !== undefined;
  }

  override async remove(outputId: string): Promise<void> {
    await super.remove(outputId);
    await deletePrefix(objectIn(this.prefixUrl, `map-out/${outputId}/`)).catch(() => undefined);
  }

  async cleanup(): Promise<void> {}
}
