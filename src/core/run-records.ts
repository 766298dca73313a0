// The intermediate record format of map outputs, spills and fetched partitions: binary and
// length-prefixed, so neither writing nor reading a record parses text.
//
//   record = varint(keyHead) key value
//   keyHead = byteLength << 1 | escaped   (escaped: the key is JSON text, for a string that is
//                                          not well-formed UTF-16, a lone surrogate, which UTF-8
//                                          cannot carry; else the key's UTF-8 bytes)
//   value  = tag payload:
//     0 varint           a non-negative safe integer (a count: most values)
//     1 varint           a negative safe integer, negated
//     2 float64 LE       any other finite number
//     3 varint utf8      a well-formed string
//     4 varint utf8      JSON text (objects, arrays, booleans, null, NaN and Infinity as JSON has them)
//
// Every value comes back as JSON would have carried it, so a job sees the same values whatever
// the format; what JSON cannot carry (undefined, a BigInt, a cycle) is refused, naming the key.
import { RecordError, kindOf, showKey } from './record-codec.ts';

export type KeyValue = [string, unknown];

export const TAG_UINT = 0;
export const TAG_NEG_INT = 1;
export const TAG_FLOAT = 2;
export const TAG_STRING = 3;
export const TAG_JSON = 4;

const SHORT_KEY_CHARS = 42;      // 3 bytes a UTF-16 unit at most: such a key's head fits one varint byte

/** The JSON text of a value, or a RecordError naming the key when JSON cannot carry it. */
function jsonOf(key: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new RecordError(`the value emitted for key ${showKey(key)} is not JSON-serialisable: ${(error as Error).message}`);
  }
  // undefined, a function or a symbol: JSON has no such value, and writing null would hide the bug
  if (json === undefined) throw new RecordError(`the value emitted for key ${showKey(key)} is ${kindOf(value)}, which JSON cannot carry; emit a string, number, boolean, null, array or plain object`);
  return json;
}

const EMPTY = Buffer.alloc(0);

/** Appends records to a growing buffer; take() hands the bytes over and starts afresh. */
export class RecordEncoder {
  private buf: Buffer;
  private at = 0;
  private nextCapacity = 0;      // after a take(): the size of the next buffer, made when a record comes

  /**
   * Starts small (a tiny task's tiny partitions: a few hundred bytes come from Node's shared
   * buffer pool, a few KiB are an allocation of their own each) and grows as records come.
   */
  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Bytes encoded since the last take(). */
  get length(): number {
    return this.at;
  }

  /** The bytes encoded so far (the encoder's own memory is not reused afterwards). */
  take(): Buffer {
    const bytes = this.buf.subarray(0, this.at);
    this.nextCapacity = this.buf.length;  // made only if another record comes (after the last block, none does)
    this.buf = EMPTY;
    this.at = 0;
    return bytes;
  }

  add(key: string, value: unknown): void {
    this.addKey(key);
    this.addValue(key, value);
  }

  /** A record whose key is bytes[from, to), UTF-8 already, and whose value is a non-negative safe integer. */
  addRaw(bytes: Uint8Array, from: number, to: number, count: number): void {
    const length = to - from;
    this.reserve(length + 16);
    this.varint(length * 2);
    this.buf.set(bytes.subarray(from, to), this.at);
    this.at += length;
    this.buf[this.at++] = TAG_UINT;
    this.varint(count);
  }

  private addKey(key: string): void {
    if (key.length <= SHORT_KEY_CHARS) {
      this.reserve(1 + key.length * 3);
      const written = this.buf.write(key, this.at + 1, 'utf8');
      if (written === key.length || key.isWellFormed()) {
        this.buf[this.at] = written * 2;
        this.at += 1 + written;
        return;
      }
    } else if (key.isWellFormed()) {
      const length = Buffer.byteLength(key, 'utf8');
      this.reserve(10 + length);
      this.varint(length * 2);
      this.at += this.buf.write(key, this.at, 'utf8');
      return;
    }
    const json = JSON.stringify(key);  // a lone surrogate: escaped, so it comes back as it went
    const length = Buffer.byteLength(json, 'utf8');
    this.reserve(10 + length);
    this.varint(length * 2 + 1);
    this.at += this.buf.write(json, this.at, 'utf8');
  }

  private addValue(key: string, value: unknown): void {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) {
        this.reserve(10);
        if (value >= 0) {
          this.buf[this.at++] = TAG_UINT;
          this.varint(value);
        } else {
          this.buf[this.at++] = TAG_NEG_INT;
          this.varint(-value);
        }
        return;
      }
      if (Number.isFinite(value)) {
        this.reserve(9);
        this.buf[this.at++] = TAG_FLOAT;
        this.buf.writeDoubleLE(value, this.at);
        this.at += 8;
        return;
      }
    }
    if (typeof value === 'string' && value.isWellFormed()) {
      this.addText(TAG_STRING, value);
      return;
    }
    this.addText(TAG_JSON, jsonOf(key, value));
  }

  private addText(tag: number, text: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    this.reserve(11 + length);
    this.buf[this.at++] = tag;
    this.varint(length);
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  private varint(n: number): void {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.at++] = n;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes, this.nextCapacity));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
    this.nextCapacity = 0;
  }
}

/** A record's parts, found without decoding it: where its key lies and where its value starts. */
export interface RecordSpan {
  keyFrom: number;
  keyTo: number;
  escaped: boolean;
  valueAt: number;   // the value's tag
  end: number;       // the next record
}

/** Reads a varint at buf[at] (its end in varintEnd), or -1 when buf[at, to) ends first. */
function readVarint(buf: Uint8Array, at: number, to: number): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    if (at >= to) return -1;
    const b = buf[at++];
    n += (b & 0x7f) * scale;
    if (b < 0x80) {
      varintEnd = at;
      return n;
    }
    scale *= 0x80;
  }
}
let varintEnd = 0;   // where the last varint read ended (spares an allocation per varint)

function corrupt(what: string): Error {
  return new Error(`corrupt intermediate record: ${what}`);
}

/** Finds the record at buf[at] into span; false when buf[at, to) does not hold all of it. */
export function spanAt(buf: Uint8Array, at: number, to: number, span: RecordSpan): boolean {
  const head = readVarint(buf, at, to);
  if (head < 0) return false;
  const keyFrom = varintEnd;
  const keyTo = keyFrom + Math.floor(head / 2);
  if (keyTo >= to) return false;
  const tag = buf[keyTo];
  let end: number;
  switch (tag) {
    case TAG_UINT: case TAG_NEG_INT:
      if (readVarint(buf, keyTo + 1, to) < 0) return false;
      end = varintEnd;
      break;
    case TAG_FLOAT:
      end = keyTo + 9;
      break;
    case TAG_STRING: case TAG_JSON: {
      const length = readVarint(buf, keyTo + 1, to);
      if (length < 0) return false;
      end = varintEnd + length;
      break;
    }
    default:
      throw corrupt(`value tag ${tag} at byte ${keyTo}`);
  }
  if (end > to) return false;
  span.keyFrom = keyFrom;
  span.keyTo = keyTo;
  span.escaped = (head & 1) === 1;
  span.valueAt = keyTo;
  span.end = end;
  return true;
}

/** The number a record's value holds, or undefined when it is not a number. */
export function numberAt(buf: Buffer, valueAt: number): number | undefined {
  const tag = buf[valueAt];
  if (tag === TAG_UINT) return readVarint(buf, valueAt + 1, buf.length);
  if (tag === TAG_NEG_INT) return -readVarint(buf, valueAt + 1, buf.length);
  if (tag === TAG_FLOAT) return buf.readDoubleLE(valueAt + 1);
  return undefined;
}

function textAt(buf: Buffer, at: number): string {
  const length = readVarint(buf, at, buf.length);
  return buf.toString('utf8', varintEnd, varintEnd + length);
}

function valueAt(buf: Buffer, at: number): unknown {
  const tag = buf[at];
  switch (tag) {
    case TAG_UINT: return readVarint(buf, at + 1, buf.length);
    case TAG_NEG_INT: return -readVarint(buf, at + 1, buf.length);
    case TAG_FLOAT: return buf.readDoubleLE(at + 1);
    case TAG_STRING: return textAt(buf, at + 1);
    default: return JSON.parse(textAt(buf, at + 1));
  }
}

/** The key of a record as a string. */
export function keyOf(buf: Buffer, span: RecordSpan): string {
  const text = buf.toString('utf8', span.keyFrom, span.keyTo);
  return span.escaped ? (JSON.parse(text) as string) : text;
}

/**
 * Decodes the complete records of buf[from, to) into out; returns where the first incomplete one
 * starts (to, when all were complete). A reader carries the rest over to its next chunk.
 */
export function decodeRecords(buf: Buffer, from: number, to: number, out: KeyValue[]): number {
  const span: RecordSpan = { keyFrom: 0, keyTo: 0, escaped: false, valueAt: 0, end: 0 };
  let at = from;
  while (at < to && spanAt(buf, at, to, span)) {
    out.push([keyOf(buf, span), valueAt(buf, span.valueAt)]);
    at = span.end;
  }
  return at;
}

/** Encodes records into one buffer (tests, and small runs built in memory). */
export function encodeRecords(records: readonly KeyValue[]): Buffer {
  const encoder = new RecordEncoder();
  for (const [key, value] of records) encoder.add(key, value);
  return encoder.take();
}
