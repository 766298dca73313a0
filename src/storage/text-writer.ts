// A buffered, append-only text file writer: few large writes instead of one per record.
import { open, type FileHandle } from 'node:fs/promises';

const FLUSH_CHARS = 1 << 20;

export class TextWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  bytesWritten = 0;

  private constructor(private readonly file: FileHandle, readonly path: string) {}

  /** Creates (or truncates) the file; prefix, if given, is its first bytes. */
  static async create(path: string, prefix?: Uint8Array): Promise<TextWriter> {
    const writer = new TextWriter(await open(path, 'w'), path);
    if (prefix && prefix.length > 0) {
      try {
        await writer.file.write(prefix, 0, prefix.length);
      } catch (error) {
        await writer.file.close();
        throw error;
      }
      writer.bytesWritten = prefix.length;
    }
    return writer;
  }

  /** Queues text; returns a promise only when the buffer had to be flushed (await it then). */
  write(text: string): Promise<void> | undefined {
    this.pending.push(text);
    this.pendingChars += text.length;
    return this.pendingChars >= FLUSH_CHARS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    await this.file.write(data, 0, data.length);
    this.bytesWritten += data.length;
  }

  /** Flushes and closes; with sync, the data is on disk before it returns (for commits). */
  async close(sync = false): Promise<number> {
    try {
      await this.flush();
      if (sync) await this.file.sync();
    } finally {
      await this.file.close();
    }
    return this.bytesWritten;
  }
}
