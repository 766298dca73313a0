// record-codec: intermediate records round-trip as JSON(key) TAB JSON(value) lines; output formatting.
import { describe, expect, it } from 'vitest';
import { RecordError, decodeRecords, encodeRecord, formatRecord, formatValue, partFileName } from '../../src/core/record-codec.ts';
import { int, mulberry32, pick, randomString, type Rng } from './prng.ts';

const NASTY = ['\t', '\n', '\r', '"', '\\', "'", '\u2028', '\u0000', '\u001f', '/', '😀', 'é', '\ud800', '\udc00', ' '];

function nastyString(rng: Rng): string {
  let s = '';
  const n = int(rng, 0, 10);
  for (let i = 0; i < n; i++) s += rng() < 0.5 ? pick(rng, NASTY) : randomString(rng, 2);
  return s;
}

function randomValue(rng: Rng, depth = 0): unknown {
  switch (int(rng, 0, depth > 2 ? 4 : 6)) {
    case 0: return int(rng, -1e6, 1e6);
    case 1: return rng() * 1e3 - 500;
    case 2: return nastyString(rng);
    case 3: return rng() < 0.5 ? null : rng() < 0.5;
    case 4: return int(rng, 0, 1) === 0 ? 0 : Number.MAX_SAFE_INTEGER;
    case 5: return Array.from({ length: int(rng, 0, 4) }, () => randomValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(rng, 0, 4); i > 0; i--) o[nastyString(rng)] = randomValue(rng, depth + 1);
      return o;
    }
  }
}

/** Encodes records into one text, cuts it at newlines as a line reader would, and decodes. */
function roundTrip(records: [string, unknown][]): [string, unknown][] {
  const text = records.map(([k, v]) => encodeRecord(k, v)).join('');
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines).toHaveLength(records.length);
  return decodeRecords(lines);
}

describe('encodeRecord / decodeRecords', () => {
  it('encodes one line: JSON key, a tab, JSON value, a newline', () => {
    expect(encodeRecord('a', 1)).toBe('"a"\t1\n');
    expect(encodeRecord('t\tn\n', 'v\tw')).toBe('"t\\tn\\n"\t"v\\tw"\n');
  });

  it('round-trips keys with tabs, newlines, quotes, backslashes and unicode, and all value kinds', () => {
    const rng = mulberry32(606);
    const records: [string, unknown][] = [];
    for (let i = 0; i < 3000; i++) records.push([nastyString(rng), randomValue(rng)]);
    records.push(['', ''], ['plain', 'plain'], ['"', '"'], ['\\', '\\'], ['\t', [null, { '\n': '\t' }]]);
    expect(roundTrip(records)).toEqual(records);
  });

  it('refuses a value JSON cannot carry, naming its key', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const value of [undefined, () => 1, Symbol('s'), 1n, circular]) {
      expect(() => encodeRecord('the\tkey', value)).toThrowError(RecordError);
      expect(() => encodeRecord('the\tkey', value)).toThrowError(/key "the\\tkey"/);
    }
    expect(encodeRecord('k', null)).toBe('"k"\tnull\n');
  });

  it('keeps keys that look like JSON escapes literally', () => {
    const keys = ['\\t', '\\n', '\\"', 'a\\u0041', '\\\\'];
    expect(roundTrip(keys.map((k) => [k, k]))).toEqual(keys.map((k) => [k, k]));
  });

  it('rejects a line with no tab after a JSON key', () => {
    expect(() => decodeRecords(['no tab here'])).toThrowError(/corrupt intermediate record/);
    expect(() => decodeRecords(['\t1'])).toThrowError(/corrupt/);
  });
});

describe('formatRecord', () => {
  it('writes key<TAB>value lines; a tab in the value is fine', () => {
    expect(formatRecord('k', 1)).toBe('k\t1\n');
    expect(formatRecord('k', 'a\tb')).toBe('k\ta\tb\n');
    expect(formatRecord('k', null)).toBe('k\tnull\n');
    expect(formatRecord('k', { s: 'a\nb' })).toBe('k\t{"s":"a\\nb"}\n'); // JSON escapes it
  });

  it('refuses what would break the line format or is no value, naming the key', () => {
    expect(() => formatRecord('a\tb', 1)).toThrowError(/key "a\\tb" holds a tab/);
    expect(() => formatRecord('a\nb', 1)).toThrowError(/key "a\\nb" holds a newline/);
    expect(() => formatRecord('k', 'two\nlines')).toThrowError(/value for key "k" holds a newline/);
    expect(() => formatRecord('k', undefined)).toThrowError(/value for key "k" is undefined/);
    expect(() => formatRecord('k', () => 1)).toThrowError(RecordError);
  });
});

describe('formatValue', () => {
  it('writes primitives with String() and objects and arrays as JSON', () => {
    expect(formatValue(42)).toBe('42');
    expect(formatValue(-1.5)).toBe('-1.5');
    expect(formatValue('a\tb')).toBe('a\tb');
    expect(formatValue(true)).toBe('true');
    expect(formatValue(null)).toBe('null');
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue({ a: 1, b: 'x' })).toBe('{"a":1,"b":"x"}');
    expect(formatValue([1, 'two', null])).toBe('[1,"two",null]');
    expect(formatValue([])).toBe('[]');
  });
});

describe('partFileName', () => {
  it('pads the reducer number to five digits', () => {
    expect(partFileName(0)).toBe('part-r-00000');
    expect(partFileName(7)).toBe('part-r-00007');
    expect(partFileName(12345)).toBe('part-r-12345');
    expect(partFileName(123456)).toBe('part-r-123456');
  });
});
