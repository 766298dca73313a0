// How `mr run` starts its own worker processes: `mr __worker <JSON>`, the options of mr worker
// already parsed and checked by mr run, so that a worker's start-up skips yargs (tens of ms of
// module loading in every worker of every job). The options are mr worker's, camel-cased.

export const EMBEDDED_WORKER = '__worker';

/** mr worker's flags (--name value pairs, as mr run builds them) as its parsed options. */
export function embeddedWorkerArgv(flags: readonly string[]): string[] {
  const options: Record<string, string | number | boolean> = { listenHost: '127.0.0.1', exitWithParent: true };
  for (let i = 0; i < flags.length; i++) {
    const name = flags[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = flags[i + 1];
    if (value === undefined || value.startsWith('--')) {
      options[name] = true;
      continue;
    }
    options[name] = NUMERIC.has(name) ? Number(value) : value;
    i++;
  }
  return [EMBEDDED_WORKER, JSON.stringify(options)];
}

const NUMERIC = new Set(['slots', 'chaosSeed', 'chaosEpochMs']);
