// Built-in operators a job can use in place of its own functions: the word tokenizer and the
// associative aggregations. Each is a plain function (any path can call it, a plain loop too) and
// carries a mark the worker recognises: a job whose map counts words and whose combine is an
// aggregation runs on the byte-level path (word-table.ts), with the same output byte for byte.
import type { Emit } from './job.ts';

/** The mark on a built-in: a registered symbol, so the copy of 'mr' compiled into a job has the same one. */
export const BUILTIN = Symbol.for('mr.builtin');

export type BuiltinName = 'countWords' | 'sum' | 'count' | 'min' | 'max';

function mark<F extends object>(name: BuiltinName, fn: F): F {
  Object.defineProperty(fn, BUILTIN, { value: name });
  return fn;
}

/** Which built-in fn is, if it is one. */
export function builtinOf(fn: unknown): BuiltinName | undefined {
  return typeof fn === 'function' ? (fn as { [BUILTIN]?: BuiltinName })[BUILTIN] : undefined;
}

const WORD = /\p{L}+/gu;

/** The words of a text: maximal runs of Unicode letters (\p{L}+), lower-cased. */
export function words(text: string): string[] {
  const found = text.match(WORD);
  if (found === null) return [];
  for (let i = 0; i < found.length; i++) found[i] = found[i].toLowerCase();
  return found;
}

/** A map that emits (word, 1) for every word of its record (see `words`). */
export const countWords = mark('countWords', (text: string, emit: Emit<number>): void => {
  const found = text.match(WORD);
  if (found !== null) for (const word of found) emit(word.toLowerCase(), 1);
});

/** The sum of a key's values: a combine and a reduce. */
export const sum = mark('sum', (_key: string, values: number[]): number => {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
});

/** How many values a key has: a reduce (as a combine it would count partial counts; emit 1 and use sum). */
export const count = mark('count', (_key: string, values: unknown[]): number => values.length);

/** The least of a key's values: a combine and a reduce. */
export const min = mark('min', <V>(_key: string, values: V[]): V => {
  let least = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] < least) least = values[i];
  return least;
});

/** The greatest of a key's values: a combine and a reduce. */
export const max = mark('max', <V>(_key: string, values: V[]): V => {
  let most = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] > most) most = values[i];
  return most;
});
