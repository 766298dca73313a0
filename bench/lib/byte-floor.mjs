// The per-core floor of word counting in Node, with no engine: a loop over the raw bytes of big
// read buffers that lower-cases ASCII letters and hashes each word as it scans, into an
// open-addressing table of typed arrays with the keys stored once in a byte arena. No string is
// made for a word until the end. With --threads N, N threads each count a line-aligned share of
// the file and the main thread merges their tables. Plain JavaScript, so threads need no loader.
// Usage: node bench/lib/byte-floor.mjs <file> [--threads N]  -> one JSON line on stdout.
// Words are runs of ASCII letters (other bytes separate them): a speed floor, not the job's output.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const CHUNK_BYTES = 4 << 20;

class Table {
  constructor() {
    this.slots = new Int32Array(1 << 20);
    this.mask = this.slots.length - 1;
    this.hashes = new Int32Array(1 << 19);
    this.starts = new Int32Array(1 << 19);
    this.lengths = new Int32Array(1 << 19);
    this.counts = new Float64Array(1 << 19);
    this.arena = new Uint8Array(1 << 22);
    this.used = 0;
    this.size = 0;
    this.words = 0;
  }

  scan(buf, end) {
    let start = -1;
    let hash = 0x811c9dc5 | 0;
    for (let i = 0; i < end; i++) {
      const lower = buf[i] | 0x20;
      if (lower >= 0x61 && lower <= 0x7a) {
        if (start < 0) start = i;
        hash = Math.imul(hash ^ lower, 0x01000193);
      } else if (start >= 0) {
        this.add(buf, start, i - start, hash);
        start = -1;
        hash = 0x811c9dc5 | 0;
      }
    }
    if (start >= 0) this.add(buf, start, end - start, hash);
  }

  add(buf, at, length, hash) {
    this.words++;
    const arena = this.arena;
    let slot = hash & this.mask;
    for (;;) {
      const entry = this.slots[slot];
      if (entry === 0) break;
      const e = entry - 1;
      if (this.hashes[e] === hash && this.lengths[e] === length) {
        const from = this.starts[e];
        let k = 0;
        while (k < length && arena[from + k] === (buf[at + k] | 0x20)) k++;
        if (k === length) {
          this.counts[e]++;
          return;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.used + length > this.arena.length) {
      const grown = new Uint8Array(this.arena.length * 2);
      grown.set(this.arena);
      this.arena = grown;
    }
    const e = this.size++;
    if (e === this.hashes.length) {
      for (const name of ['hashes', 'starts', 'lengths', 'counts']) {
        const next = new this[name].constructor(e * 2);
        next.set(this[name]);
        this[name] = next;
      }
    }
    for (let k = 0; k < length; k++) this.arena[this.used + k] = buf[at + k] | 0x20;
    this.hashes[e] = hash;
    this.starts[e] = this.used;
    this.lengths[e] = length;
    this.counts[e] = 1;
    this.used += length;
    this.slots[slot] = e + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
  }

  rehash() {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let e = 0; e < this.size; e++) {
      let slot = this.hashes[e] & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = e + 1;
    }
  }
}

/** Counts the lines starting in [from, to) of the file (a line belongs to the share holding its first byte). */
function countRange(file, from, to) {
  const table = new Table();
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  try {
    let at = from;
    if (from > 0) {               // skip to the first line that starts in the share
      const probe = Buffer.allocUnsafe(65536);
      for (let found = false; !found;) {
        const n = readSync(fd, probe, 0, probe.length, at - 1);
        if (n === 0) return table;
        const nl = probe.subarray(0, n).indexOf(10);
        if (nl >= 0) { at += nl; found = true; } else at += n;
      }
    }
    let carry = 0;                // bytes of an unfinished line kept at the chunk's start
    while (at < to || carry > 0) {
      const n = readSync(fd, chunk, carry, CHUNK_BYTES - carry, at);
      const end = carry + n;
      at += n;
      if (n === 0) { table.scan(chunk, end); break; }
      let last = chunk.lastIndexOf(10, end - 1);
      if (at >= to) {             // past the share: stop after the line that crosses its end
        const over = at - to;
        const nl = chunk.indexOf(10, Math.max(0, end - over - 1));
        if (nl >= 0 && nl < end) { table.scan(chunk, nl + 1); break; }
        last = -1;
      }
      if (last < 0) { carry = end; continue; }
      table.scan(chunk, last + 1);
      carry = end - last - 1;
      chunk.copy(chunk, 0, last + 1, end);
    }
  } finally {
    closeSync(fd);
  }
  return table;
}

function keysOf(table) {
  const counts = new Map();
  for (let e = 0; e < table.size; e++) {
    counts.set(Buffer.from(table.arena.buffer, table.starts[e], table.lengths[e]).toString('latin1'), table.counts[e]);
  }
  return counts;
}

if (!isMainThread) {
  const table = countRange(workerData.file, workerData.from, workerData.to);
  parentPort.postMessage({ words: table.words, counts: keysOf(table) });
} else {
  const file = process.argv[2];
  const threadsAt = process.argv.indexOf('--threads');
  const threads = threadsAt > 0 ? Number(process.argv[threadsAt + 1]) : 1;
  if (!file || !(threads >= 1)) {
    console.error('usage: node bench/lib/byte-floor.mjs <file> [--threads N]');
    process.exit(2);
  }
  const started = performance.now();
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  closeSync(fd);
  let words = 0;
  let distinct = 0;
  if (threads === 1) {
    const table = countRange(file, 0, size);
    words = table.words;
    distinct = table.size;
  } else {
    const shares = Array.from({ length: threads }, (_, t) => [Math.floor((size * t) / threads), Math.floor((size * (t + 1)) / threads)]);
    const parts = await Promise.all(shares.map(([from, to]) => new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { file, from, to } });
      worker.once('message', resolve);
      worker.once('error', reject);
    })));
    const merged = parts[0].counts;
    for (const part of parts.slice(1)) for (const [word, n] of part.counts) merged.set(word, (merged.get(word) ?? 0) + n);
    words = parts.reduce((total, part) => total + part.words, 0);
    distinct = merged.size;
  }
  const elapsedMs = performance.now() - started;
  console.log(JSON.stringify({ threads, words, distinct, elapsedMs, maxRssKiB: process.resourceUsage().maxRSS }));
}
