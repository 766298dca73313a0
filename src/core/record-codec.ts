// The intermediate record format of map outputs and spill runs: one record a line,
// JSON(key) TAB JSON(value) NEWLINE. JSON escapes tabs and newlines, so both split points are safe.

export type KeyValue = [string, unknown];

export function encodeRecord(key: string, value: unknown): string {
  // JSON.stringify gives undefined for undefined, functions and symbols: those travel as null.
  return JSON.stringify(key) + '\t' + (JSON.stringify(value) ?? 'null') + '\n';
}

/** Decodes the complete lines of text (each without its newline) into records. */
export function decodeRecords(lines: readonly string[]): KeyValue[] {
  const records: KeyValue[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const tab = line.indexOf('\t');
    if (tab < 2) throw new Error(`corrupt intermediate record: ${line.slice(0, 80)}`);
    const keyJson = line.slice(0, tab);
    const key = keyJson.includes('\\') ? (JSON.parse(keyJson) as string) : keyJson.slice(1, -1);
    records[i] = [key, JSON.parse(line.slice(tab + 1))];
  }
  return records;
}

/** How a reduced value is written to a part file: String(value), objects and arrays as JSON. */
export function formatValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** The name of reducer r's output file: part-r-00000, part-r-00001, ... */
export function partFileName(reducer: number): string {
  return `part-r-${String(reducer).padStart(5, '0')}`;
}
