// Which reducer a key goes to: the job's own partition function, or a stable hash of the key.
import type { JobDefinition, JobOptions } from './job.ts';

/** FNV-1a (32-bit) over the key's UTF-8 bytes: stable across runs, processes and platforms. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    let code = key.charCodeAt(i);
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, 0x01000193);
      continue;
    }
    if (code >= 0xd800 && code < 0xe000) {
      const low = code < 0xdc00 && i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        code = 0xfffd; // a lone surrogate encodes as U+FFFD, as TextEncoder does
      }
    }
    for (const byte of utf8Bytes(code)) hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash >>> 0;
}

function utf8Bytes(code: number): number[] {
  if (code < 0x800) return [0xc0 | (code >> 6), 0x80 | (code & 63)];
  if (code < 0x10000) return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63)];
  return [0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63)];
}

export function defaultPartition(key: string, reducers: number): number {
  return hashKey(key) % reducers;
}

export type Partitioner = (key: string) => number;

/** Binds a job's partitioning to a reducer count, checking what a user function returns. */
export function makePartitioner(job: Pick<JobDefinition, 'partition'>, reducers: number, options: JobOptions = {}): Partitioner {
  const own = job.partition;
  if (!own) return (key) => hashKey(key) % reducers;
  return (key) => {
    const r = own.call(job, key, reducers, options);
    if (!Number.isInteger(r) || r < 0 || r >= reducers) {
      throw new Error(`partition(${JSON.stringify(key)}, ${reducers}) returned ${String(r)}; it must be a whole number from 0 to ${reducers - 1}`);
    }
    return r;
  };
}
