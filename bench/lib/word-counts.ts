// Word -> count tables as `mr run` writes them (key<TAB>value lines in part-r-* files, per the
// output contract), and their comparison with the reference from the sequential loop.
import { readFileSync } from 'node:fs';

export type WordCounts = Map<string, string>;

/** Formats a reduce result as the engine writes it: String(value), objects and arrays as JSON. */
export function formatValue(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export interface CountsDiff {
  missing: number;
  extra: number;
  different: number;
  /** Keys found in more than one part file: the contract puts each key in exactly one. */
  duplicated: number;
  examples: string[];
}

const MAX_EXAMPLES = 5;

export function readPartFiles(files: readonly string[]): { counts: WordCounts; duplicated: string[] } {
  const counts: WordCounts = new Map();
  const duplicated: string[] = [];
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      // Keys here are words, which never hold a tab, so the first tab ends the key.
      const tab = line.indexOf('\t');
      const key = tab === -1 ? line : line.slice(0, tab);
      if (counts.has(key)) duplicated.push(key);
      counts.set(key, tab === -1 ? '' : line.slice(tab + 1));
    }
  }
  return { counts, duplicated };
}

export function compareCounts(expected: WordCounts, actual: WordCounts, duplicated: string[] = []): CountsDiff {
  const diff: CountsDiff = { missing: 0, extra: 0, different: 0, duplicated: duplicated.length, examples: [] };
  const example = (text: string): void => {
    if (diff.examples.length < MAX_EXAMPLES) diff.examples.push(text);
  };
  for (const [key, value] of expected) {
    const got = actual.get(key);
    if (got === undefined) {
      diff.missing++;
      example(`missing ${JSON.stringify(key)} (expected ${value})`);
    } else if (got !== value) {
      diff.different++;
      example(`${JSON.stringify(key)}: got ${got}, expected ${value}`);
    }
  }
  for (const [key, value] of actual) {
    if (expected.has(key)) continue;
    diff.extra++;
    example(`unexpected ${JSON.stringify(key)} = ${value}`);
  }
  for (const key of duplicated.slice(0, MAX_EXAMPLES)) example(`${JSON.stringify(key)} in several part files`);
  return diff;
}

export function isSame(diff: CountsDiff): boolean {
  return diff.missing + diff.extra + diff.different + diff.duplicated === 0;
}

export function describeDiff(diff: CountsDiff): string {
  const parts = [`${diff.missing} missing`, `${diff.extra} extra`, `${diff.different} different`, `${diff.duplicated} duplicated`];
  return `${parts.join(', ')} keys; e.g. ${diff.examples.join('; ')}`;
}
