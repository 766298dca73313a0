// The output format: part files of key<TAB>value lines, and the errors of records that cannot be
// written. (Intermediate records are binary: run-records.ts.)

/** A record that cannot be written: a value JSON cannot carry, or a key or value that would break the line format. */
export class RecordError extends TypeError {}

/** The key as a message shows it: quoted, escaped, cut at 100 characters. */
export function showKey(key: string): string {
  return JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}...` : key);
}

export function kindOf(value: unknown): string {
  return value === undefined ? 'undefined' : `a ${typeof value}`;
}

/** How a reduced value is written to a part file: String(value), objects and arrays as JSON. */
export function formatValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

const TAB_OR_NEWLINE = /[\t\n]/;

/**
 * One line of a part file, key<TAB>value. A key with a tab or a newline, or a value with a
 * newline, would turn into other records when the file is read; undefined (a reduce that
 * returned nothing), a function or a symbol is a bug, not a value. Each is an error.
 */
export function formatRecord(key: string, value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new RecordError(`the output value for key ${showKey(key)} is ${kindOf(value)}; reduce must return a value (or write its records with ctx.emit)`);
  }
  if (TAB_OR_NEWLINE.test(key)) {
    throw new RecordError(`the output key ${showKey(key)} holds a ${key.includes('\t') ? 'tab' : 'newline'}; output lines are key<TAB>value, so keys must hold neither`);
  }
  let text: string;
  try {
    text = formatValue(value);
  } catch (error) {
    throw new RecordError(`the output value for key ${showKey(key)} cannot be written: ${(error as Error).message}`);
  }
  if (text.includes('\n')) throw new RecordError(`the output value for key ${showKey(key)} holds a newline; output lines are key<TAB>value, so values must hold none`);
  return key + '\t' + text + '\n';
}

/** The name of reducer r's output file: part-r-00000, part-r-00001, ... */
export function partFileName(reducer: number): string {
  return `part-r-${String(reducer).padStart(5, '0')}`;
}
