// Command-line mistakes yargs lets through or words in its own terms: an option given twice
// (yargs makes an array of it, and most code would take one of the values silently), and a
// command's missing positional argument ("Not enough non-option arguments: got 0, need at least 1").
import type { Argv } from 'yargs';
import { UsageError } from '../errors.ts';

/** An option that takes one value, given several times: which one was meant is not ours to guess. */
export function repeatedOption(flag: string, values: readonly unknown[]): UsageError {
  const shown = values.map((value) => `'${String(value)}'`).join(', ');
  return new UsageError(`${flag} was given ${values.length} times (${shown}); give it once`);
}

/**
 * Refuses any option given more than once but those declared repeatable (array: --input, --set,
 * --backends). Numeric options refuse it in their coerce (number-args.ts), which runs first;
 * a boolean given twice is not an array, and not refused.
 */
export function refuseRepeatedOptions(parser: Argv, argv: Record<string, unknown>): void {
  const options = (parser as unknown as { getOptions(): { key: Record<string, unknown>; array: string[]; alias: Record<string, string[]> } }).getOptions();
  const aliases = new Set(Object.values(options.alias).flat());
  for (const name of Object.keys(options.key)) {
    if (/[A-Z]/.test(name) || aliases.has(name) || options.array.includes(name)) continue;
    const value = argv[name];
    if (Array.isArray(value)) throw repeatedOption(`--${name}`, value);
  }
}

/** What each command's required positional argument is, and the command's shape, for the error that it is missing. */
const POSITIONALS: Record<string, string> = {
  run: 'no job file given; give one (or several, to chain): mr run <job.ts> --input <glob> --output <dir>',
  check: 'no job file given; give one or more: mr check <job.ts> [<job2.ts> ...]',
  bench: 'no job file given; give one: mr bench <job.ts> --input <glob> --workers 1,2,4',
  kill: 'no job given; give its id (mr list shows them): mr kill <job> --master <host:port>',
  logs: 'no job given; give its id (mr list shows them): mr logs <job>',
  drain: 'no node given; give its number (mr ps shows them): mr drain <node> --master <host:port>',
  cat: 'no path given; give one: mr cat /cluster/<node>/<path> --master <host:port>',
};

/** yargs' "Not enough non-option arguments" as what the command misses, or undefined for any other message. */
export function missingPositional(message: string, command: string | undefined): string | undefined {
  if (!/^Not enough non-option arguments/.test(message)) return undefined;
  return (command !== undefined ? POSITIONALS[command] : undefined) ?? undefined;
}
