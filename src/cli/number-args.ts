// Numeric options. yargs turns `--workers abc` into NaN and every later check could only say
// "got NaN"; each numeric option is read here instead, so its error quotes what was typed.
import { UsageError } from '../errors.ts';
import { repeatedOption } from './argv-checks.ts';

export type NumberRule = 'count' | 'index' | 'positive' | 'nonNegative' | 'seed' | 'port';

const RULES: Record<NumberRule, { wants: string; ok(n: number): boolean }> = {
  count: { wants: 'a whole number >= 1', ok: (n) => Number.isInteger(n) && n >= 1 },
  index: { wants: 'a whole number >= 0', ok: (n) => Number.isInteger(n) && n >= 0 },
  positive: { wants: 'a positive number', ok: (n) => Number.isFinite(n) && n > 0 },
  nonNegative: { wants: 'a number >= 0', ok: (n) => Number.isFinite(n) && n >= 0 },
  seed: { wants: `a whole number from 0 to ${0xffffffff}`, ok: (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff },
  port: { wants: 'a port number from 0 to 65535', ok: (n) => Number.isInteger(n) && n >= 0 && n <= 65535 },
};

/** The number a numeric option's text stands for, or a UsageError that quotes the text. */
export function readNumber(flag: string, rule: NumberRule, raw: unknown): number {
  if (Array.isArray(raw)) throw repeatedOption(flag, raw);
  const text = typeof raw === 'boolean' ? '' : String(raw).trim();
  const n = text === '' ? NaN : Number(text);
  if (!RULES[rule].ok(n)) {
    throw new UsageError(`${flag} must be ${RULES[rule].wants}, got ${text === '' ? 'no value' : `'${text}'`}`);
  }
  return n;
}

/**
 * A yargs option read by readNumber. It has no yargs type on purpose: a `type: 'number'` option
 * reaches coerce as NaN already, a `type: 'string'` one would show as [string] in --help.
 */
export function numberOption<T extends { describe?: string; default?: number; hidden?: boolean }>(name: string, rule: NumberRule, option: T) {
  return { ...option, coerce: (raw: unknown) => readNumber(`--${name}`, rule, raw) };
}
