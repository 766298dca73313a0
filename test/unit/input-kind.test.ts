// binaryReason: what the first bytes of an input file say about reading it as text.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { binaryReason } from '../../src/storage/input-kind.ts';

describe('binaryReason', () => {
  it('lets text through, UTF-8 and empty files included', () => {
    expect(binaryReason('a.txt', Buffer.from('plain words\n'))).toBeUndefined();
    expect(binaryReason('a.txt', Buffer.from('Grüße, 日本 \u{1D49C}\r\n'))).toBeUndefined();
    expect(binaryReason('a.txt', Buffer.alloc(0))).toBeUndefined();
    expect(binaryReason('a.gz', Buffer.alloc(0))).toBeUndefined();
  });

  it('lets gzip data named .gz through', () => {
    expect(binaryReason('a.txt.gz', gzipSync('x'))).toBeUndefined();
  });

  it('names a NUL byte and where it is', () => {
    expect(binaryReason('a.bin', Buffer.from([65, 66, 0, 67]))).toMatch(/^looks binary \(a NUL byte at offset 2\); .*--binary-ok/);
  });

  it('says to rename gzip data without the .gz name, and a .gz name without gzip data', () => {
    expect(binaryReason('a.txt', gzipSync('x'))).toMatch(/^holds gzip data but its name does not end in \.gz; rename it/);
    expect(binaryReason('a.gz', Buffer.from('text'))).toMatch(/^is named \.gz but does not hold gzip data; rename it without \.gz/);
  });
});
