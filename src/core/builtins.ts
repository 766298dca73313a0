// Built-in operators a job can use in place of its own functions: the word tokenizer and the
// associative aggregations. Each is a plain function (any path can call it, a plain loop too) and
// carries a mark the worker recognises: a job whose map counts words and whose combine is an
// aggregation runs on the byte-level path (word-table.ts), with the same output byte for byte.
import type { Emit } from './emit.ts';

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
export const sum = mark('sum', (key: string, values: number[]): number => {
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!isFiniteNumber(value)) throw notANumber('sum', key, value);
    total += value;
  }
  return total;
});

/** How many values a key has: a reduce (as a combine it would count partial counts; emit 1 and use sum). */
export const count = mark('count', (_key: string, values: unknown[]): number => values.length);

/** The least of a key's values: a combine and a reduce. */
export const min = mark('min', (key: string, values: number[]): number => {
  let least = values[0];
  if (!isFiniteNumber(least)) throw notANumber('min', key, least);
  for (let i = 1; i < values.length; i++) {
    const value = values[i];
    if (!isFiniteNumber(value)) throw notANumber('min', key, value);
    if (value < least) least = value;
  }
  return least;
});

/** The greatest of a key's values: a combine and a reduce. */
export const max = mark('max', (key: string, values: number[]): number => {
  let most = values[0];
  if (!isFiniteNumber(most)) throw notANumber('max', key, most);
  for (let i = 1; i < values.length; i++) {
    const value = values[i];
    if (!isFiniteNumber(value)) throw notANumber('max', key, value);
    if (value > most) most = value;
  }
  return most;
});

/** The built-ins that do arithmetic on values, of all the built-ins. */
export type NumericBuiltin = 'sum' | 'min' | 'max';

/** Which numeric built-in fn is, if it is one. */
export function numericBuiltinOf(fn: unknown): NumericBuiltin | undefined {
  const name = builtinOf(fn);
  return name === 'sum' || name === 'min' || name === 'max' ? name : undefined;
}

// JavaScript would not refuse a string: 0 + 'one' concatenates, 'x' < 3 compares, and the job
// would write nonsense with exit 0.
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && value - value === 0;   // false for NaN and ±Infinity
}

/** The error of a numeric built-in given a value that is not a finite number, naming the key. */
export function notANumber(name: NumericBuiltin, key: string, value: unknown): TypeError {
  return new TypeError(`${name} takes finite numbers, got ${shownValue(value)} for key ${shownKey(key)}`);
}

function shownValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'number' || value === undefined ? String(value) : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length > 60) text = `${text.slice(0, 60)}...`;
  const kind = value === null || value === undefined ? '' : Array.isArray(value) ? ' (an array)' : ` (a${typeof value === 'object' ? 'n' : ''} ${typeof value})`;
  return text + kind;
}

function shownKey(key: string): string {
  return JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}...` : key);
}
