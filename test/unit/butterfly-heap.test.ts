// The butterfly heap across real worker threads: a partition written into a memory module in one
// thread reads back exactly in another; what does not fit spills to a file; remove frees space.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startThread } from '../../src/thread-entry.ts';
import { DirectoryFullError } from '../../src/backends/butterfly/heap-directory.ts';
import { HeapModule, createHeap, lookupPartition, spillPath, type HeapMemory } from '../../src/backends/butterfly/shared-heap.ts';
import { mulberry32, randomString } from './prng.ts';

const HEAP_THREAD = new URL('../fixtures/butterfly-heap-thread.ts', import.meta.url);
const threads: Worker[] = [];
let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mr-butterfly-heap-'));
});
afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.terminate()));
  await rm(scratch, { recursive: true, force: true });
});

/** Runs the heap fixture thread in one mode; resolves its one message. */
function runThread<T>(data: Record<string, unknown>): Promise<T> {
  const thread = startThread(HEAP_THREAD, data);
  threads.push(thread);
  return new Promise((resolve, reject) => {
    thread.once('message', resolve);
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`heap thread exited (${code}) without a message`)));
  });
}

interface PartitionText { outputId: string; partition: number; pieces: string[] }

function partitionText(seed: number, outputId: string, partition: number, pieces: number): PartitionText {
  const rng = mulberry32(seed);
  return { outputId, partition, pieces: Array.from({ length: pieces }, () => `${randomString(rng, 30)}\n`) };
}

async function writeSink(module: HeapModule, outputId: string, partition: number, text: string): Promise<number> {
  const sink = module.openPartition(outputId, partition);
  await sink.write(text);
  return sink.close();
}

function moduleText(heap: HeapMemory, outputId: string, partition: number): string | undefined {
  const found = lookupPartition(heap, outputId, partition);
  return found && 'view' in found ? found.view.toString('utf8') : undefined;
}

describe('butterfly shared heap', () => {
  it('partitions written by threads on several nodes read back byte for byte in other threads, in place', async () => {
    const heap = createHeap(4, 1 << 20);
    const spillDirs = [0, 1, 2, 3].map((node) => join(scratch, `node-${node}`));
    const byNode = [0, 1, 2, 3].map((node) => [0, 1, 2, 3, 4].map((p) => partitionText(10 * node + p, `map-${node}`, p, 200)));
    const written = await Promise.all(byNode.map((partitions, node) =>
      runThread<{ bytes: number[]; bytesSpilled: number }>({ mode: 'write', heap, node, spillDir: spillDirs[node], partitions })));
    for (let node = 0; node < 4; node++) {
      const expected = byNode[node].map((p) => p.pieces.join(''));
      expect(written[node].bytes).toEqual(expected.map((text) => Buffer.byteLength(text)));
      expect(written[node].bytesSpilled).toBe(0);
      for (let p = 0; p < expected.length; p++) {
        const found = lookupPartition(heap, `map-${node}`, p);
        expect(found && found.node).toBe(node);
        if (!found || !('view' in found)) throw new Error(`partition ${p} of node ${node} is not in a module`);
        expect(found.view.buffer).toBe(heap.data);   // zero-copy: a view of the shared memory
        expect(found.view.toString('utf8')).toBe(expected[p]);
      }
      expect(await runThread<string[]>({ mode: 'read', heap, spillDirs, partitions: byNode[node] })).toEqual(expected);
    }
    expect(lookupPartition(heap, 'map-2', 5)).toBeUndefined();
    expect(lookupPartition(heap, 'map-4', 0)).toBeUndefined();
  });

  it('publishes whole entries: a thread following another sees every partition complete', async () => {
    const heap = createHeap(2, 1 << 20);
    const count = 150;
    const partitions = Array.from({ length: count }, (_, i) => ({ outputId: `o-${i}`, partition: 0, pieces: Array(i + 1).fill(`record ${i}\n`) }));
    const follower = runThread<string[]>({ mode: 'follow', heap, count });
    await runThread({ mode: 'write', heap, node: 1, spillDir: scratch, partitions, yieldBetween: true });
    expect(await follower).toEqual([]);
  });

  it('a partition larger than its module spills to its file, which reads back exactly', async () => {
    const heap = createHeap(2, 4096);
    const spillDir = join(scratch, 'node-1');
    const partition = partitionText(5, 'big-output', 3, 1000);   // ~ 40 KB of mixed 1- to 4-byte characters
    const written = await runThread<{ bytes: number[]; usedBytes: number; bytesSpilled: number; bytesInModule: number }>({ mode: 'write', heap, node: 1, spillDir, partitions: [partition] });
    const expected = partition.pieces.join('');
    expect(written.bytes).toEqual([Buffer.byteLength(expected)]);
    expect(written).toMatchObject({ usedBytes: 0, bytesInModule: 0, bytesSpilled: Buffer.byteLength(expected) });
    expect(lookupPartition(heap, 'big-output', 3)).toEqual({ node: 1, spilled: true });
    expect(await readFile(spillPath(spillDir, 'big-output', 3), 'utf8')).toBe(expected);
    expect(spillPath(spillDir, 'big-output', 3)).toBe(join(spillDir, 'big-output', 'r-3'));
  });

  it('remove frees the module space, entries and spill files, so a later partition fits again', async () => {
    const heap = createHeap(1, 4096);
    const module = new HeapModule(heap, 0, scratch);
    const a = 'a'.repeat(3000);
    expect(await writeSink(module, 'first', 0, a)).toBe(3000);
    expect(module.usedBytes()).toBe(3000);
    expect(await writeSink(module, 'second', 0, 'b'.repeat(3000))).toBe(3000);   // 1096 bytes left: spills
    expect(lookupPartition(heap, 'second', 0)).toEqual({ node: 0, spilled: true });
    expect(moduleText(heap, 'first', 0)).toBe(a);

    await module.remove('first');
    await module.remove('second');
    expect(module.usedBytes()).toBe(0);
    expect(lookupPartition(heap, 'first', 0)).toBeUndefined();
    expect(lookupPartition(heap, 'second', 0)).toBeUndefined();
    await expect(stat(join(scratch, 'second'))).rejects.toMatchObject({ code: 'ENOENT' });

    expect(await writeSink(module, 'third', 0, 'c'.repeat(4000))).toBe(4000);
    expect(moduleText(heap, 'third', 0)).toBe('c'.repeat(4000));
    expect(module).toMatchObject({ bytesInModule: 7000, bytesSpilled: 3000, partitionsSpilled: 1 });
  });

  it('a partition that outgrows the module midway moves what it wrote to the file and goes on there', async () => {
    const heap = createHeap(1, 4096);
    const module = new HeapModule(heap, 0, scratch);
    const sink = module.openPartition('grows', 1);
    const pieces = Array.from({ length: 400 }, (_, i) => `line ${i} é😀\n`);   // ~ 7 KB
    for (const piece of pieces) await sink.write(piece);
    expect(await sink.close()).toBe(Buffer.byteLength(pieces.join('')));
    expect(lookupPartition(heap, 'grows', 1)).toEqual({ node: 0, spilled: true });
    expect(await readFile(spillPath(scratch, 'grows', 1), 'utf8')).toBe(pieces.join(''));
    expect(module.usedBytes()).toBe(0);
    expect(await writeSink(module, 'small', 0, 'fits')).toBe(4);   // the module space came back
    expect(moduleText(heap, 'small', 0)).toBe('fits');
  });

  it('a second sink open at the same time writes to its file; the first stays in the module', async () => {
    const heap = createHeap(2, 1 << 16);
    const module = new HeapModule(heap, 1, scratch);
    const first = module.openPartition('out', 0);
    const second = module.openPartition('out', 1);
    for (let i = 0; i < 50; i++) {
      await first.write(`first ${i}\n`);
      await second.write(`second ${i}\n`);
    }
    expect(module.usedBytes()).toBeGreaterThan(0);
    const secondBytes = await second.close();
    const firstBytes = await first.close();
    const firstText = Array.from({ length: 50 }, (_, i) => `first ${i}\n`).join('');
    const secondText = Array.from({ length: 50 }, (_, i) => `second ${i}\n`).join('');
    expect([firstBytes, secondBytes]).toEqual([firstText.length, secondText.length]);
    expect(moduleText(heap, 'out', 0)).toBe(firstText);
    expect(lookupPartition(heap, 'out', 1)).toEqual({ node: 1, spilled: true });
    expect(await readFile(spillPath(scratch, 'out', 1), 'utf8')).toBe(secondText);
    expect(module.usedBytes()).toBe(firstText.length);
    expect(() => module.openPartition('out', 0)).toThrow(/already written/);
  });

  it('adjacent freed extents merge, and the directory reports when it is full', async () => {
    const heap = createHeap(1, 4096, { entriesPerModule: 16 });
    const module = new HeapModule(heap, 0, scratch);
    for (let i = 0; i < 16; i++) await writeSink(module, `o${i}`, 0, 'x'.repeat(200));
    await expect(writeSink(module, 'one-too-many', 0, 'y')).rejects.toBeInstanceOf(DirectoryFullError);
    expect(module.usedBytes()).toBe(3200);
    for (let i = 0; i < 16; i += 2) await module.remove(`o${i}`);
    for (let i = 1; i < 16; i += 2) await module.remove(`o${i}`);
    expect(module.usedBytes()).toBe(0);
    expect(await writeSink(module, 'whole', 0, 'z'.repeat(4096))).toBe(4096);   // all extents merged back
    expect(moduleText(heap, 'whole', 0)).toBe('z'.repeat(4096));
    for (let i = 0; i < 16; i++) expect(lookupPartition(heap, `o${i}`, 0)).toBeUndefined();
  });

  it('checks its arguments', () => {
    expect(() => createHeap(3, 4096)).toThrow(RangeError);
    expect(() => createHeap(2048, 4096)).toThrow(RangeError);
    expect(() => createHeap(4, 1000)).toThrow(/4096/);
    expect(() => createHeap(8, 2 ** 30)).toThrow(/at most/);
    expect(() => createHeap(4, 4096, { entriesPerModule: 4 })).toThrow(RangeError);
    const heap = createHeap(2, 4096);
    expect(() => new HeapModule(heap, 2, scratch)).toThrow(RangeError);
    const module = new HeapModule(heap, 0, scratch);
    expect(() => module.openPartition('x'.repeat(97), 0)).toThrow(/96/);
    expect(() => module.openPartition('../escape', 0)).toThrow(RangeError);
    expect(() => module.openPartition('ok', -1)).toThrow(RangeError);
  });
});
