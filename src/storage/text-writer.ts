// A buffered, append-only file writer of text and bytes: few large writes instead of one per record.
import { open, type FileHandle } from 'node:fs/promises';

const FLUSH_CHARS = 1 << 20;

export class TextWriter {
  private pending: (string | Uint8Array)[] = [];
  private pendingChars = 0;   // UTF-16 units of text plus bytes
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

  /** Queues text or bytes (kept, not copied); returns a promise only when the buffer had to be flushed (await it then). */
  write(data: string | Uint8Array): Promise<void> | undefined {
    this.pending.push(data);
    this.pendingChars += data.length;
    return this.pendingChars >= FLUSH_CHARS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    const data = pending.every((part) => typeof part === 'string')
      ? Buffer.from(pending.join(''), 'utf8')
      : pending.length === 1 ? pending[0] as Uint8Array : Buffer.concat(pending.map((part) => typeof part === 'string' ? Buffer.from(part, 'utf8') : part));
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
