// Reads the lines of a byte range of a file in batches. A line belongs to the range that holds
// its first byte, so adjacent ranges never cut a line in two nor read one twice. A path may be an
// object's URL (s3://): it is read by byte ranges as a file is.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { isObjectUrl, openObject, statObject } from './object-store.ts';

const NEWLINE = 10;
export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface LineBatch {
  lines: string[];
  bytes: number;                 // bytes of input these lines took, newlines included
  offset?: number;               // file offset of the first line's first byte (none for decompressed input)
}

/**
 * Yields the lines that start in [start, end) of the file, without their '\n' (nor a '\r'
 * before it). Invalid UTF-8 becomes U+FFFD; '\n' never occurs inside a UTF-8 sequence, so
 * decoding line-aligned regions on their own is exact.
 */
export async function* readLineBatches(path: string, start = 0, end = Infinity, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<LineBatch> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const { data, offset } of readLineChunks(path, start, end, chunkBytes)) {
    const last = data[data.length - 1] === NEWLINE;
    yield { lines: splitLines(decoder.decode(data) + (last ? '' : '\n')), bytes: data.length, offset };
  }
}

/** Bytes of a file holding whole lines, and where in the file they start. */
export interface LineChunk {
  data: Uint8Array;      // each line with its '\n', but the file's last line when it has none
  offset: number;
}

/**
 * The raw bytes of the lines that start in [start, end) of the file, in chunks of whole lines.
 * Each chunk is a buffer of its own; an unfinished line is copied to the start of the next one
 * (which grows with it, so a very long line is copied a few times, not once per chunk).
 */
export async function* readLineChunks(path: string, start = 0, end = Infinity, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<LineChunk> {
  const file = await openReader(path);
  try {
    // A chunk no bigger than the file: a reducer may read thousands of tiny runs at once, and
    // a megabyte each would be mostly garbage. A file that grows while read still reads whole.
    const size = file.size;
    let readAt = start > 0 ? start - 1 : 0;
    let skipping = start > 0;    // the byte before `start` decides whether a line starts at `start`
    let carry: Buffer | undefined; // an incomplete line, to go first in the next chunk
    let carryOffset = readAt;    // file offset of the next line's first byte
    for (;;) {
      const carried = carry?.length ?? 0;
      const chunk = Buffer.allocUnsafe(carried + Math.max(carried, readChunkBytes(size - readAt, chunkBytes)));
      carry?.copy(chunk, 0);
      const bytesRead = await file.read(chunk.subarray(carried), readAt);
      if (bytesRead === 0) break;
      let data = chunk.subarray(0, carried + bytesRead);
      let dataOffset = carry === undefined ? readAt : carryOffset;
      readAt += bytesRead;
      carry = undefined;
      if (skipping) {
        const nl = data.indexOf(NEWLINE);
        if (nl < 0) continue;
        skipping = false;
        data = data.subarray(nl + 1);
        dataOffset += nl + 1;
      }
      const limit = end - dataOffset; // lines starting at an index below this are ours
      if (limit <= 0) return;
      let take = data.lastIndexOf(NEWLINE) + 1;
      let finished = false;
      if (limit < data.length) {
        const nl = data.indexOf(NEWLINE, limit - 1);
        if (nl >= 0) {
          take = nl + 1;
          finished = true;
        }
      }
      if (take > 0) yield { data: data.subarray(0, take), offset: dataOffset };
      if (finished) return;
      if (take < data.length) carry = data.subarray(take);
      carryOffset = dataOffset + take;
    }
    if (carry !== undefined && carryOffset < end) yield { data: carry, offset: carryOffset };
  } finally {
    await file.close();
  }
}

/** The bytes of a whole file in chunks of up to chunkBytes, each a buffer of its own. */
export async function* readChunks(path: string, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<Buffer> {
  const file = await openReader(path);
  try {
    for (let at = 0; ;) {
      const chunk = Buffer.allocUnsafe(readChunkBytes(file.size - at, chunkBytes));
      const bytesRead = await file.read(chunk, at);
      if (bytesRead === 0) return;
      at += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

/** The whole of a file or an object ('file' input mode). */
export async function readWhole(path: string): Promise<Buffer> {
  if (!isObjectUrl(path)) return readFile(path);
  const chunks: Buffer[] = [];
  for await (const chunk of readChunks(path)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The size of a file or an object. */
export async function inputSize(path: string): Promise<number> {
  return isObjectUrl(path) ? (await statObject(path)).sizeBytes : (await stat(path)).size;
}

/** Splits newline-terminated text into lines, dropping each line's '\r' before its '\n'. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/**
 * How big a read buffer to allocate with `leftBytes` of the file still to read: no bigger than
 * that (plus one byte, to see the end), so thousands of tiny files do not cost a megabyte each.
 */
export function readChunkBytes(leftBytes: number, maxBytes: number): number {
  return Math.min(maxBytes, Math.max(4096, leftBytes + 1));
}

/** Files up to this size are read with blocking calls: a tiny file costs less than the round trips to the thread pool. */
const SMALL_FILE_BYTES = 256 * 1024;

interface Reader {
  size: number;
  read(into: Buffer, position: number): Promise<number> | number;
  close(): Promise<void> | void;
}

async function openReader(path: string): Promise<Reader> {
  if (isObjectUrl(path)) return openObject(path);
  let size = -1;
  try {
    size = statSync(path).size;
  } catch {
    // open, below, fails with the error a reader should see
  }
  if (size >= 0 && size <= SMALL_FILE_BYTES) {
    const fd = openSync(path, 'r');
    return { size, read: (into, position) => readSync(fd, into, 0, into.length, position), close: () => closeSync(fd) };
  }
  const file = await open(path, 'r');
  return {
    size: (await file.stat()).size,
    read: async (into, position) => (await file.read(into, 0, into.length, position)).bytesRead,
    close: () => file.close(),
  };
}
