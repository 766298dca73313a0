// The byte-level word count: scans raw UTF-8 bytes for words (maximal runs of Unicode letters,
// \p{L}+, lower-cased: exactly what the `words` tokenizer gives on decoded text) and counts
// each in an open-addressing hash table of typed arrays, its key stored once in a byte arena.
// No string is made for a word: the table is drained as bytes, sorted in byte order.
//
// ASCII letters are lower-cased on the fly (b | 0x20) and hashed as they are scanned. A word with
// any other letter is decoded and lower-cased by String.prototype.toLowerCase as a whole, which
// keeps context-dependent rules (a final sigma) exactly as the string path has them. Bytes that
// are not valid UTF-8 separate words, as the U+FFFD a decoder makes of them would.
import { ByteKeyTable, FNV_OFFSET, FNV_PRIME, fnv1a } from './byte-key-table.ts';
import { sortByKeyBytes, type KeySpans } from './byte-order.ts';


/** Per code point: 0 not yet classified, 1 a letter, 2 not a letter. Shared: it depends on nothing else. */
let letterClass: Uint8Array | undefined;
const LETTER = /^\p{L}$/u;

function isLetter(code: number): boolean {
  letterClass ??= new Uint8Array(0x110000);
  let c = letterClass[code];
  if (c === 0) {
    c = LETTER.test(String.fromCodePoint(code)) ? 1 : 2;
    letterClass[code] = c;
  }
  return c === 1;
}

/** The length of the valid UTF-8 sequence at buf[i] (lead byte >= 0x80), or 0 when it is not one. */
function sequenceLength(buf: Uint8Array, i: number, end: number): number {
  const b = buf[i];
  let n: number;
  let low = 0x80;
  let high = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) low = 0xa0;
    else if (b === 0xed) high = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) low = 0x90;
    else if (b === 0xf4) high = 0x8f;
  } else return 0;
  if (i + n > end) return 0;
  const second = buf[i + 1];
  if (second < low || second > high) return 0;
  for (let k = 2; k < n; k++) {
    const next = buf[i + k];
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return n;
}

function codePointAt(buf: Uint8Array, i: number, n: number): number {
  const b = buf[i];
  if (n === 2) return ((b & 0x1f) << 6) | (buf[i + 1] & 0x3f);
  if (n === 3) return ((b & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f);
  return ((b & 0x07) << 18) | ((buf[i + 1] & 0x3f) << 12) | ((buf[i + 2] & 0x3f) << 6) | (buf[i + 3] & 0x3f);
}

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

export interface ScanFigures {
  words: number;     // words seen (the records a string map would have emitted)
  lines: number;     // newlines seen
}

/** A drained table: where each key lies in the arena, its count, and each partition's entries in key byte order. */
export interface DrainedWords extends KeySpans {
  counts: Float64Array;
  partitions: Int32Array[];
}

/**
 * Text with every kind of byte the scan meets (ASCII words and separators, other letters and
 * marks, astral letters, bytes that are not UTF-8, a word at the very end), so that the first
 * tables of a process give the JIT feedback on every branch: without it, each branch first met
 * in a big split throws the optimised scan away and map tasks start several times slower.
 */
function warmUpSample(): Buffer {
  const text = 'The cat, THE Cat; the dog.\r\nΟΔΟΣ Straße café 東京 नमस्ते 𝐀𝐁c x_y 123 İstanbul\n';
  const invalid = Buffer.from([0x61, 0xc3, 0x28, 0x62, 0xe2, 0x82, 0x61, 0xed, 0xa0, 0x80, 0x63, 0xf0, 0x9f, 0x64, 0xff, 0xc0, 0xaf, 0x65, 0x0a]);
  const distinct = Buffer.alloc(3 * 26 * 26);   // "aa ab ... zz ": enough distinct words to grow a small table
  for (let i = 0; i < 26 * 26; i++) distinct.set([97 + Math.floor(i / 26), 97 + (i % 26), 32], 3 * i);
  return Buffer.concat([invalid, Buffer.from(text.repeat(4)), distinct, Buffer.from('end')]);   // a Buffer, as the input is: another array type is another map to the JIT
}

let warm = false;

/** Runs two small tables over the sample once per process (a millisecond or two). */
export function warmUpWordTables(): void {
  if (warm) return;
  warm = true;
  const sample = warmUpSample();
  for (let round = 0; round < 2; round++) {
    const table = new WordTable(64);   // small, so that the sample grows it
    table.scan(sample, 0, sample.length);
    table.drain(3);
  }
}

/** The most slots a map task's table starts with; it doubles from there when its input has more words. */
const MAX_INITIAL_SLOTS = 1 << 14;
const MIN_INITIAL_SLOTS = 64;

/**
 * The slots a table for inputBytes of text starts with: a word takes two bytes at least (a letter
 * and a separator), and the table stays half empty. A tiny input gets a tiny table: a map task
 * over a one-line file that allocated the full-size arrays (some 300 KiB, twice) spent most of
 * its time in the garbage collector.
 */
export function initialSlotsFor(inputBytes: number): number {
  let slots = MIN_INITIAL_SLOTS;
  while (slots < inputBytes && slots < MAX_INITIAL_SLOTS) slots *= 2;
  return slots;
}

/** Words and their counts (size: distinct words; bytes: roughly what they take, which tells a map task to spill). */
export class WordTable extends ByteKeyTable {
  /** Counts the words of buf[start, end); words never continue past `end`. */
  scan(buf: Uint8Array, start = 0, end = buf.length): ScanFigures {
    let words = 0;
    let lines = 0;
    let wordStart = -1;
    let hash = FNV_OFFSET;
    let plain = true;          // the word so far is ASCII letters only
    for (let i = start; i < end; i++) {
      const b = buf[i];
      if (b < 0x80) {
        const lower = b | 0x20;
        if (lower >= 0x61 && lower <= 0x7a) {
          if (wordStart < 0) wordStart = i;
          hash = Math.imul(hash ^ lower, FNV_PRIME);
          continue;
        }
        if (b === 10) lines++;
        if (wordStart >= 0) {
          this.addWord(buf, wordStart, i, hash, plain);
          words++;
          wordStart = -1;
          hash = FNV_OFFSET;
          plain = true;
        }
        continue;
      }
      const n = sequenceLength(buf, i, end);
      if (n > 0 && isLetter(codePointAt(buf, i, n))) {
        if (wordStart < 0) wordStart = i;
        plain = false;
        i += n - 1;
        continue;
      }
      if (wordStart >= 0) {
        this.addWord(buf, wordStart, i, hash, plain);
        words++;
        wordStart = -1;
        hash = FNV_OFFSET;
        plain = true;
      }
      if (n > 0) i += n - 1;
    }
    if (wordStart >= 0) {
      this.addWord(buf, wordStart, end, hash, plain);
      words++;
    }
    return { words, lines };
  }

  /** The word buf[from, to): ASCII letters only (plain, hash already computed as it was scanned) or not. */
  private addWord(buf: Uint8Array, from: number, to: number, hash: number, plain: boolean): void {
    if (plain) this.addAscii(buf, from, to - from, hash);
    else this.addDecoded(buf, from, to);
  }

  /** An ASCII word at buf[at, at + length), its lower-cased bytes' hash already computed. */
  private addAscii(buf: Uint8Array, at: number, length: number, hash: number): void {
    const arena = this.arena;
    let slot = hash & this.mask;
    for (;;) {   // find(), comparing lower-cased in place: the hot path of every word
      const entry = this.slots[slot];
      if (entry === 0) break;
      const e = entry - 1;
      if (this.hashes[e] === hash && this.lengths[e] === length) {
        const from = this.starts[e];
        let k = 0;
        while (k < length && arena[from + k] === (buf[at + k] | 0x20)) k++;
        if (k === length) {
          this.values[e]++;
          return;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    const from = this.reserve(length);
    for (let k = 0; k < length; k++) this.arena[from + k] = buf[at + k] | 0x20;
    this.insert(slot, hash, from, length, 1);
  }

  /** A word with letters beyond ASCII: lower-cased as a string, then counted by its UTF-8 bytes. */
  private addDecoded(buf: Uint8Array, from: number, to: number): void {
    const lowered = encoder.encode(utf8.decode(buf.subarray(from, to)).toLowerCase());
    const hash = fnv1a(lowered, 0, lowered.length);
    const found = this.find(lowered, 0, lowered.length, hash);
    if (found >= 0) this.values[found]++;
    else this.insertCopy(-1 - found, hash, lowered, 0, lowered.length, 1);
  }

  /**
   * Empties the table: its keys and counts, with each partition's entries in byte order of their
   * keys. Partitions by the default partitioner (FNV-1a of the word's UTF-8 bytes, which is the
   * hash the table keeps).
   */
  drain(partitions: number): DrainedWords {
    const sizes = new Int32Array(partitions);
    const partitionOf = new Int32Array(this.entries);
    for (let e = 0; e < this.entries; e++) {
      const r = (this.hashes[e] >>> 0) % partitions;
      partitionOf[e] = r;
      sizes[r]++;
    }
    const orders = Array.from(sizes, (n) => new Int32Array(n));
    const filled = new Int32Array(partitions);
    for (let e = 0; e < this.entries; e++) {
      const r = partitionOf[e];
      orders[r][filled[r]++] = e;
    }
    const drained: DrainedWords = { arena: this.arena, starts: this.starts, lengths: this.lengths, counts: this.values, partitions: orders };
    for (const order of orders) sortByKeyBytes(drained, order);
    this.reset();
    return drained;
  }
}
