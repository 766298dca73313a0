// The file a heap partition goes to when it does not fit in its memory module: starts with the
// bytes already written to the module, then buffers text and writes it in large pieces.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

const FLUSH_CHARS = 1 << 20;

export class SpillFile {
  private pending: string[] = [];
  private pendingChars = 0;
  private bytesWritten = 0;

  private constructor(private readonly file: FileHandle) {}

  /** Creates (or truncates) the file at path, with its directories, and writes prefix to it. */
  static async create(path: string, prefix: Uint8Array): Promise<SpillFile> {
    await mkdir(dirname(path), { recursive: true });
    const spill = new SpillFile(await open(path, 'w'));
    try {
      if (prefix.length > 0) await spill.file.write(prefix, 0, prefix.length);
    } catch (error) {
      await spill.file.close();
      throw error;
    }
    spill.bytesWritten = prefix.length;
    return spill;
  }

  /** Queues text; returns a promise only when the buffer had to be flushed (await it then). */
  write(text: string): Promise<void> | undefined {
    this.pending.push(text);
    this.pendingChars += text.length;
    return this.pendingChars >= FLUSH_CHARS ? this.flush() : undefined;
  }

  /** Flushes and closes; returns the file's size in bytes. */
  async close(): Promise<number> {
    try {
      await this.flush();
    } finally {
      await this.file.close();
    }
    return this.bytesWritten;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    await this.file.write(data, 0, data.length);
    this.bytesWritten += data.length;
  }
}
