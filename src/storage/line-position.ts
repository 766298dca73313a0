// Where a record of a text file is, for a user's error: its line number and byte offset. Only
// an error path asks, so it reads the file from its start, counting newlines, rather than the
// reading path keeping count of every line it passes.
import { open } from 'node:fs/promises';

const NEWLINE = 10;
const CHUNK_BYTES = 1 << 20;

export interface LinePosition {
  line: number;       // 1-based
  byte: number;       // offset of the line's first byte in the file
}

/** The position of the line `skip` lines after the line starting at byte `from` of the file. */
export async function lineAt(path: string, from: number, skip: number): Promise<LinePosition> {
  const file = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let line = 1;
    let at = 0;                 // file offset of chunk[0]
    let byte = from;
    let left = skip;            // lines still to pass once `from` is reached
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, CHUNK_BYTES, at);
      if (bytesRead === 0) return { line, byte };
      for (let i = chunk.indexOf(NEWLINE); i >= 0 && i < bytesRead; i = chunk.indexOf(NEWLINE, i + 1)) {
        const next = at + i + 1;  // the next line starts here
        if (next <= from) {
          line++;
        } else if (left > 0) {
          line++;
          left--;
          byte = next;
        }
        if (next > from && left === 0) return { line, byte };
      }
      at += bytesRead;
    }
  } finally {
    await file.close();
  }
}

/** The offset of the line `skip` lines after the one starting at byte `from` (reading from there only); the file's end if it has fewer. */
export async function lineOffset(path: string, from: number, skip: number): Promise<number> {
  if (skip === 0) return from;
  const file = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let at = from;              // file offset of chunk[0]
    let left = skip;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, CHUNK_BYTES, at);
      if (bytesRead === 0) return at;
      for (let i = chunk.indexOf(NEWLINE); i >= 0 && i < bytesRead; i = chunk.indexOf(NEWLINE, i + 1)) {
        if (--left === 0) return at + i + 1;
      }
      at += bytesRead;
    }
  } finally {
    await file.close();
  }
}
