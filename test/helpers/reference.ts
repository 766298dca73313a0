// Independent sequential implementations of the shipped jobs, to compare the engine against.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import fg from 'fast-glob';

export function inputFiles(glob: string): string[] {
  return fg.sync(glob, { absolute: true }).sort();
}

function words(text: string): string[] {
  return (text.match(/\p{L}+/gu) ?? []).map((w) => w.toLowerCase());
}

export function referenceWordCount(files: string[]): Map<string, string> {
  const counts = new Map<string, number>();
  for (const file of files) {
    for (const word of words(readFileSync(file, 'utf8'))) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, v]) => [k, String(v)]));
}

export function referenceIndex(files: string[]): Map<string, string> {
  const where = new Map<string, Set<string>>();
  for (const file of files) {
    for (const word of new Set(words(readFileSync(file, 'utf8')))) {
      if (!where.has(word)) where.set(word, new Set());
      where.get(word)!.add(basename(file));
    }
  }
  return new Map([...where].map(([k, v]) => [k, `${v.size} ${[...v].sort().join(',')}`]));
}

/** Byte order of UTF-8 encodings, as the output files are sorted. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** What test/fixtures/slow-lines.ts computes: line length (without a CR) mod 7 -> number of lines. */
export function referenceLineLengthsMod7(files: string[]): Map<string, string> {
  const counts = new Map<string, number>();
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const line of lines) {
      const key = String(line.replace(/\r$/, '').length % 7);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return new Map([...counts].map(([k, v]) => [k, String(v)]));
}
