// Reads the lines of a whole .gz file (or object), decompressed as it streams (node:zlib), in
// batches. A gzip stream cannot be entered mid-way, so there is no byte range: such a file is
// always one split.
import { Readable } from 'node:stream';
import { createGunzip, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { inputSize, readChunks, splitLines, type LineBatch } from './line-reader.ts';

const NEWLINE = 10;
const READ_CHUNK_BYTES = 1 << 20;

/**
 * Yields the file's lines as readLineBatches does, but a batch's `bytes` are the compressed bytes
 * read from the file for it: progress and counters measure the file as it lies on disk, which is
 * what its split's size is. Concatenated gzip members read as one stream, as gzip -d does.
 */
export async function* readGzipLineBatches(path: string): AsyncGenerator<LineBatch> {
  if ((await inputSize(path)) === 0) return; // an empty file is empty input, as an empty text file is
  let bytesRead = 0;
  const file = Readable.from((async function* () {
    for await (const chunk of readChunks(path, READ_CHUNK_BYTES)) {
      bytesRead += chunk.length;
      yield chunk;
    }
  })());
  const inflate = createGunzip();
  file.pipe(inflate);
  file.on('error', (error) => inflate.destroy(error)); // a read error ends the iteration below
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let carry: Buffer = Buffer.alloc(0);
  let counted = 0;               // compressed bytes already given to a batch
  const compressedSince = (): number => {
    const read = bytesRead - counted;
    counted = bytesRead;
    return read;
  };
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) {
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const take = data.lastIndexOf(NEWLINE) + 1;
      carry = data.subarray(take);
      if (take > 0) yield { lines: splitLines(decoder.decode(data.subarray(0, take))), bytes: compressedSince() };
    }
    const rest = compressedSince();
    if (carry.length > 0 || rest > 0) yield { lines: carry.length > 0 ? splitLines(decoder.decode(carry) + '\n') : [], bytes: rest };
  } finally {
    file.destroy();
    inflate.destroy();
  }
}

/** The whole decompressed content of a .gz file ('file' input mode). */
export async function gunzipWhole(compressed: Buffer): Promise<Buffer> {
  return compressed.length === 0 ? compressed : promisify(gunzip)(compressed);
}
