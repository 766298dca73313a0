// record-codec and run-records: binary intermediate records round-trip as JSON would carry them; output formatting.
import { describe, expect, it } from 'vitest';
import { RecordError, formatRecord, formatValue, partFileName } from '../../src/core/record-codec.ts';
import { RecordEncoder, TAG_UINT, decodeRecords, encodeRecords } from '../../src/core/run-records.ts';
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

/** Encodes records into one buffer, cuts it into chunks as a file reader would, and decodes, carrying what a chunk cut. */
function roundTrip(records: [string, unknown][], chunk = Infinity): [string, unknown][] {
  const bytes = encodeRecords(records);
  const out: [string, unknown][] = [];
  let carry = Buffer.alloc(0);
  for (let at = 0; at < bytes.length; at += chunk) {
    const data = Buffer.concat([carry, bytes.subarray(at, Math.min(bytes.length, at + chunk))]);
    const end = decodeRecords(data, 0, data.length, out);
    carry = data.subarray(end);
  }
  expect(carry.length).toBe(0);
  return out;
}

describe('binary intermediate records', () => {
  it('encodes a key as its length and UTF-8 bytes, a count as a tag and a varint', () => {
    expect([...encodeRecords([['a', 1]])]).toEqual([2, 0x61, TAG_UINT, 1]);
    expect([...encodeRecords([['', 300]])]).toEqual([0, TAG_UINT, 0xac, 0x02]);
    const raw = new RecordEncoder();
    raw.addRaw(Buffer.from('xaby'), 1, 3, 7);
    expect([...raw.take()]).toEqual([4, 0x61, 0x62, TAG_UINT, 7]);
  });

  it('round-trips keys with tabs, newlines, quotes, backslashes, lone surrogates and unicode, and all value kinds', () => {
    const rng = mulberry32(606);
    const records: [string, unknown][] = [];
    for (let i = 0; i < 3000; i++) records.push([nastyString(rng), randomValue(rng)]);
    records.push(['', ''], ['plain', 'plain'], ['"', '"'], ['\\', '\\'], ['\t', [null, { '\n': '\t' }]], ['k'.repeat(5000), 'v'.repeat(70000)]);
    records.push(['\ud800', '\udc00'], ['\ufffd', -1], ['big', 2 ** 53 - 1], ['neg', -(2 ** 53 - 1)], ['frac', -0.1], ['huge', 1e300]);
    expect(roundTrip(records)).toEqual(records);
    for (const chunk of [1, 7, 4096]) expect(roundTrip(records.slice(0, 400), chunk)).toEqual(records.slice(0, 400));
  });

  it('gives back what JSON would: NaN and Infinity as null, -0 as 0', () => {
    expect(roundTrip([['n', NaN], ['i', -Infinity], ['z', -0], ['o', { a: undefined, b: NaN }]])).toEqual(
      [['n', null], ['i', null], ['z', 0], ['o', { b: null }]]);
    expect(Object.is(roundTrip([['z', -0]])[0][1], 0)).toBe(true);
  });

  it('refuses a value JSON cannot carry, naming its key', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const value of [undefined, () => 1, Symbol('s'), 1n, circular]) {
      expect(() => encodeRecords([['the\tkey', value]])).toThrowError(RecordError);
      expect(() => encodeRecords([['the\tkey', value]])).toThrowError(/key "the\\tkey"/);
    }
    expect(roundTrip([['k', null]])).toEqual([['k', null]]);
  });

  it('stops before a record the buffer does not hold whole, and refuses an unknown tag', () => {
    const bytes = encodeRecords([['one', 1], ['two', 'text']]);
    const out: [string, unknown][] = [];
    expect(decodeRecords(bytes, 0, bytes.length - 1, out)).toBe(6);   // head, "one", tag, 1
    expect(out).toEqual([['one', 1]]);
    expect(() => decodeRecords(Buffer.from([2, 0x61, 9]), 0, 3, [])).toThrowError(/corrupt intermediate record/);
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
