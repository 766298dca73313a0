// The reliability suite's bookkeeping. Each case runs real jobs through the CLI under a fault,
// compares the output with a sequential reference, byte for byte, and records what it found:
// records lost, duplicated or changed (all must be 0). `npm test` runs the cases marked fast;
// `npm run test:reliability` (MR_RELIABILITY=full) runs them all and sums the records up.
import { appendFileSync, mkdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { byteOrder } from '../helpers/reference.ts';

export const FULL = process.env.MR_RELIABILITY === 'full';
const RESULTS_DIR = process.env.MR_RELIABILITY_RESULTS;

export type Area = 'network' | 'process' | 'load' | 'bad input' | 'security';

/** What one output directory held, compared with the reference. */
export interface OutputCheck {
  records: number;    // records in the output
  expected: number;   // records in the reference
  lost: number;       // reference keys missing from the output
  duplicated: number; // records beyond the first for a key (in one file or across files)
  changed: number;    // keys with another value than the reference's, or keys the reference lacks
}

export interface CaseRecord extends Partial<OutputCheck> {
  area: Area;
  name: string;
  fast: boolean;
  passed: boolean;
  ms: number;
  outputsChecked: number;
  error?: string;
  skipped?: string;   // why the case could not run on this machine
}

export interface CaseContext {
  /** Compares outDir with the reference and fails the case unless it holds exactly the same bytes. */
  expectOutput(outDir: string, reference: Map<string, string>): Promise<OutputCheck>;
}

/** The reference, rendered as the engine renders it: `key<TAB>value` lines in UTF-8 byte order. */
export function renderReference(reference: Map<string, string>): string {
  return [...reference.keys()].sort(byteOrder).map((key) => `${key}\t${reference.get(key)}\n`).join('');
}

/**
 * Reads the part files of outDir and counts how they differ from the reference. Each file must be
 * in byte order on its own; the lines of all files, merged, must be the reference's bytes.
 */
export async function checkOutput(outDir: string, reference: Map<string, string>): Promise<OutputCheck & { sameBytes: boolean; sorted: boolean; success: boolean }> {
  const names = (await readdir(outDir)).sort();
  const parts = names.filter((name) => name.startsWith('part-r-'));
  const seen = new Map<string, string>();
  const lines: string[] = [];
  let duplicated = 0;
  let changed = 0;
  let sorted = true;
  for (const name of parts) {
    const text = await readFile(join(outDir, name), 'utf8');
    const fileLines = text.split('\n');
    if (fileLines.pop() !== '') sorted = false; // a file ends with a newline, or is empty
    let previous: string | undefined;
    for (const line of fileLines) {
      const tab = line.indexOf('\t');
      const key = tab < 0 ? line : line.slice(0, tab);
      const value = tab < 0 ? '' : line.slice(tab + 1);
      if (previous !== undefined && byteOrder(previous, key) > 0) sorted = false;
      previous = key;
      lines.push(`${line}\n`);
      if (seen.has(key)) { duplicated++; continue; }
      seen.set(key, value);
      if (reference.get(key) !== value) changed++;
    }
  }
  let lost = 0;
  for (const key of reference.keys()) if (!seen.has(key)) lost++;
  const merged = lines.sort((a, b) => byteOrder(a, b)).join('');
  return {
    records: lines.length, expected: reference.size, lost, duplicated, changed,
    sameBytes: merged === renderReference(reference), sorted, success: names.includes('_SUCCESS'),
  };
}

function record(entry: CaseRecord): void {
  if (!RESULTS_DIR) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(join(RESULTS_DIR, `cases-${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`);
}

/**
 * One case of the suite: a vitest test that records its outcome. Cases marked fast run in
 * `npm test` too; the others only in the full suite.
 */
export function reliabilityCase(area: Area, name: string, body: (ctx: CaseContext) => Promise<void>,
  options: { fast?: boolean; timeoutMs?: number; skip?: string } = {}): void {
  const fast = options.fast ?? false;
  const run = options.skip !== undefined || !(fast || FULL) ? it.skip : it;
  const title = options.skip !== undefined ? `${name} (skipped: ${options.skip})` : name;
  if (options.skip !== undefined && FULL) record({ area, name, fast, passed: false, ms: 0, outputsChecked: 0, skipped: options.skip });
  run(title, async () => {
    const start = Date.now();
    const totals: OutputCheck = { records: 0, expected: 0, lost: 0, duplicated: 0, changed: 0 };
    let outputsChecked = 0;
    const ctx: CaseContext = {
      async expectOutput(outDir, reference) {
        const check = await checkOutput(outDir, reference);
        outputsChecked++;
        for (const key of Object.keys(totals) as (keyof OutputCheck)[]) totals[key] += check[key];
        expect(check.success, `${outDir} has no _SUCCESS`).toBe(true);
        expect({ lost: check.lost, duplicated: check.duplicated, changed: check.changed }, `records of ${outDir}`)
          .toEqual({ lost: 0, duplicated: 0, changed: 0 });
        expect(check.sorted, `every part file of ${outDir} in byte order`).toBe(true);
        expect(check.sameBytes, `${outDir} holds the reference's bytes`).toBe(true);
        return check;
      },
    };
    try {
      await body(ctx);
      record({ area, name, fast, passed: true, ms: Date.now() - start, outputsChecked, ...totals });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      record({ area, name, fast, passed: false, ms: Date.now() - start, outputsChecked, ...totals, error: message.split('\n')[0] });
      throw error;
    }
  }, options.timeoutMs ?? 180_000);
}
