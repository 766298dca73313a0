// The byte-level word count gives exactly what the string tokenizer gives: the same words, the
// same counts, the same partitions and the same order, on English, on other scripts, and on
// bytes that are not UTF-8 at all.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { words } from '../../src/core/builtins.ts';
import { EmitBuffer } from '../../src/core/emit-buffer.ts';
import { makePartitioner } from '../../src/core/partitioner.ts';
import { WordTable } from '../../src/core/word-table.ts';
import { mulberry32 } from './prng.ts';

const BOOKS = join(import.meta.dirname, '../../datasets/gutenberg');

/** What the string path makes of the bytes: decode, split into lines, words of each, counted and combined. */
function byStrings(bytes: Uint8Array, reducers: number): unknown {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  const buffer = new EmitBuffer((_key, values: number[]) => values.reduce((a, b) => a + b, 0));
  for (const line of text.split('\n')) for (const word of words(line)) buffer.add(word, 1);
  return buffer.drain(makePartitioner({}, reducers), reducers);
}

function byBytes(bytes: Uint8Array, reducers: number, cuts: number[] = []): unknown {
  const table = new WordTable();
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    table.scan(bytes, at, cut);
    at = cut;
  }
  return groupsOf(table, reducers);
}

/** A drained table as the string path's groups: [word, [count]] per partition, in the table's order. */
function groupsOf(table: WordTable, reducers: number): unknown {
  const { arena, starts, lengths, counts, partitions } = table.drain(reducers);
  const utf8 = new TextDecoder();
  return partitions.map((order) => [...order].map((e) => [utf8.decode(arena.subarray(starts[e], starts[e] + lengths[e])), [counts[e]]]));
}

const sample = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('WordTable', () => {
  it.each([
    ['English', 'The cat and THE Cat, the dog.\r\nA cat!\n'],
    ['a final sigma and other case rules', 'ΟΔΟΣ ΟΔΟΣΣ Σ ὈΔΥΣΣΕΎΣ İstanbul ǅemal STRASSE Straße ﬁne'],
    ['scripts without case, marks and digits', '東京 は 東京 ; नमस्ते café cafe\u0301 abc123def x_y ٣'],
    ['astral letters', '𝐀𝐁c 𝐀𝐁C 𐐀𐐨 \u{1F600}smile \uFEFFbom'],
    ['invalid UTF-8', '\u0000'],
  ])('counts %s like the string path', (_name, text) => {
    let bytes = sample(text);
    if (text === '\u0000') bytes = new Uint8Array([0x61, 0xc3, 0x28, 0x62, 0xe2, 0x82, 0x61, 0xed, 0xa0, 0x80, 0x63, 0xf0, 0x9f, 0x64, 0xff, 0xc0, 0xaf, 0x65, 0xe0, 0x80, 0x80, 0x66, 0xc3]);
    for (const reducers of [1, 3]) expect(byBytes(bytes, reducers)).toEqual(byStrings(bytes, reducers));
  });

  it('counts random bytes like the string path, however the scans are cut at newlines', () => {
    const random = mulberry32(7);
    const alphabet = [...'aAzZ \n\t.,'].map((c) => c.charCodeAt(0)).concat([0xc3, 0xa9, 0xce, 0xa3, 0xe6, 0x9d, 0xb1, 0xf0, 0x9d, 0x90, 0x80, 0xff, 0x80]);
    const bytes = new Uint8Array(20000).map(() => alphabet[Math.floor(random() * alphabet.length)]);
    const newlines = [...bytes.keys()].filter((i) => bytes[i] === 10).map((i) => i + 1);
    expect(byBytes(bytes, 4, newlines.filter((_, i) => i % 7 === 0))).toEqual(byStrings(bytes, 4));
  });

  it('counts the books like the string path, and again after a drain', () => {
    const bytes = Buffer.concat(readdirSync(BOOKS).sort().map((name) => readFileSync(join(BOOKS, name))));
    const table = new WordTable();
    table.scan(bytes);
    expect(table.size).toBeGreaterThan(10000);
    expect(groupsOf(table, 5)).toEqual(byStrings(bytes, 5));
    expect(table.size).toBe(0);
    table.scan(sample('again and again\n'));
    expect(groupsOf(table, 1)).toEqual([[['again', [2]], ['and', [1]]]]);
  });

  it('reports the words and lines it saw', () => {
    const table = new WordTable();
    expect(table.scan(sample('one two\n\nthree'))).toEqual({ words: 3, lines: 2 });
  });
});
