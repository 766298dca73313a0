// The hand-written floor: a single-threaded byte loop with no engine and no regex, run by
// bench/wordcount.ts as its own process so that its peak RSS is its own.
// Usage: node bin/tsx.mjs bench/lib/handwritten-wordcount.ts <file>  -> one JSON line on stdout.
// Words are runs of ASCII letters only (A-Z lower-cased); every other byte, including all of
// UTF-8's multi-byte sequences, separates words. That differs from the job's \p{L}+ on non-ASCII
// text, which is fine for a speed floor: its output is not compared with the others.
import { closeSync, openSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const CHUNK_BYTES = 4 * 1024 * 1024;

class WordCounter {
  readonly counts = new Map<string, number>();
  words = 0;
  /** The start of a word cut by the end of the previous chunk, waiting for its rest. */
  private carry = '';

  /**
   * Counts the words of one chunk decoded as latin1: one native call per chunk, then charCodeAt
   * and slice, which is much cheaper than a Buffer-to-string call per word.
   */
  feed(text: string): void {
    let start = this.carry === '' ? -1 : 0;
    for (let i = 0; i < text.length; i++) {
      // OR 0x20 maps A-Z onto a-z and no other byte into a-z, so one range check finds letters.
      const lower = text.charCodeAt(i) | 0x20;
      if (lower >= 0x61 && lower <= 0x7a) {
        if (start < 0) start = i;
      } else if (start >= 0) {
        this.add(text.slice(start, i));
        start = -1;
      }
    }
    if (start >= 0) this.carry += text.slice(start);
  }

  finish(): void {
    if (this.carry !== '') this.add('');
  }

  private add(piece: string): void {
    const word = (this.carry + piece).toLowerCase();
    this.carry = '';
    this.words++;
    const count = this.counts.get(word);
    if (count !== undefined) {
      this.counts.set(word, count + 1);
    } else {
      // V8 makes a slice of 13 characters or more point into its whole chunk; storing that as a
      // key would keep every chunk alive, so such a new key gets its own copy.
      this.counts.set(word.length < 13 ? word : Buffer.from(word, 'latin1').toString('latin1'), 1);
    }
  }
}

function countFile(file: string): WordCounter {
  const counter = new WordCounter();
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  const fd = openSync(file, 'r');
  try {
    for (let read = readSync(fd, chunk, 0, CHUNK_BYTES, null); read > 0; read = readSync(fd, chunk, 0, CHUNK_BYTES, null)) {
      counter.feed(chunk.toString('latin1', 0, read));
    }
    counter.finish();
  } finally {
    closeSync(fd);
  }
  return counter;
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node bin/tsx.mjs bench/lib/handwritten-wordcount.ts <file>');
  process.exit(2);
}
const started = performance.now();
const counter = countFile(file);
const elapsedMs = performance.now() - started;
const maxRssKiB = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ words: counter.words, distinct: counter.counts.size, elapsedMs, maxRssKiB }));
