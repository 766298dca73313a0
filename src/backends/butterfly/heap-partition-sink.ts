// One partition being written on a butterfly node: bytes (or text, as UTF-8) straight into an extent of the memory
// module while it fits, else into the partition's spill file (what was already in the module is
// copied to the file first, and the module space freed for others).
import type { Placement } from './heap-directory.ts';
import type { Extent } from './module-space.ts';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TextWriter } from '../../storage/text-writer.ts';

/** Like a file writer: await write() when it returns a promise; close() gives the bytes written. */
export interface PartitionSink {
  write(data: string | Uint8Array): Promise<void> | undefined;
  close(): Promise<number>;
}

/** What a sink may ask of its module's owner. */
export interface SinkOwner {
  /** Gives module space back; the sink no longer writes into the module. */
  releaseSpace(sink: PartitionWriter, offset: number, length: number): void;
  /** The sink wrote (or copied out) this many bytes of the module: an access of its owner's. */
  touch(bytes: number): void;
  /** Lists the closed partition in the directory; throws if the directory is full. */
  publish(placement: Placement): void;
  /** The sink failed and publishes nothing. */
  abandon(): void;
}

const encoder = new TextEncoder();

export class PartitionWriter implements PartitionSink {
  private written = 0;   // bytes at the start of the extent, while writing into the module
  private file?: TextWriter;
  private opening?: Promise<void>;
  private queued: (string | Uint8Array)[] = [];   // data written while the spill file was being opened
  private closed = false;

  /** Without an extent, writes to the file at spillPath from the start. */
  constructor(private readonly owner: SinkOwner, private readonly module: Uint8Array, private extent: Extent | undefined, private readonly spillPath: string) {
    if (!extent) this.startFile(new Uint8Array(0));
  }

  /** Module space held but not yet written. */
  reservedBytes(): number {
    return this.extent ? this.extent.length - this.written : 0;
  }

  write(data: string | Uint8Array): Promise<void> | undefined {
    if (this.closed) throw new Error(`write after close of the partition at ${this.spillPath}`);
    if (this.extent) {
      const { offset, length } = this.extent;
      const free = this.module.subarray(offset + this.written, offset + length);
      if (typeof data !== 'string') {
        if (data.length <= free.length) {
          free.set(data);
          this.written += data.length;
          this.owner.touch(data.length);
          return undefined;
        }
      } else {
        const { read, written } = encoder.encodeInto(data, free);
        if (read === data.length) {
          this.written += written;
          this.owner.touch(written);
          return undefined;
        }
      }
      this.moveToFile();   // what encodeInto wrote past `written` is dropped with the rest
    }
    if (this.file) return this.file.write(data);
    this.queued.push(data);
    return this.opening;
  }

  async close(): Promise<number> {
    if (this.closed) throw new Error(`the partition at ${this.spillPath} is already closed`);
    this.closed = true;
    if (this.extent) return this.closeInModule(this.extent);
    try {
      await this.opening;
      const bytes = await this.file!.close();
      this.owner.publish({ place: 'spilled', length: bytes });
      return bytes;
    } catch (error) {
      this.owner.abandon();
      throw error;
    }
  }

  private closeInModule({ offset, length }: Extent): number {
    this.extent = undefined;
    this.owner.releaseSpace(this, offset + this.written, length - this.written);
    try {
      this.owner.publish({ place: 'module', offset, length: this.written });
    } catch (error) {
      this.owner.releaseSpace(this, offset, this.written);
      this.owner.abandon();
      throw error;
    }
    return this.written;
  }

  private moveToFile(): void {
    const { offset, length } = this.extent!;
    this.extent = undefined;
    const prefix = this.module.slice(offset, offset + this.written);   // a copy: the space is freed next
    this.owner.touch(this.written);
    this.owner.releaseSpace(this, offset, length);
    this.startFile(prefix);
  }

  private startFile(prefix: Uint8Array): void {
    this.opening = this.openFile(prefix);
    this.opening.catch(() => undefined);   // reported to whoever awaits write() or close()
  }

  private async openFile(prefix: Uint8Array): Promise<void> {
    await mkdir(dirname(this.spillPath), { recursive: true });
    const file = await TextWriter.create(this.spillPath, prefix);
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        for (const data of batch) await file.write(data);
      }
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
    this.file = file;   // no await since the queue was seen empty: nothing can be left behind
  }
}
