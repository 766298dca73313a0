// --chaos and --chaos-seed (mr run, mr master, mr worker), turned into the settings every process
// of a run shares; and what a run's processes say the chaos layer did, summed for the report.
import { UsageError } from '../errors.ts';
import { numberOption } from './number-args.ts';
import { sumCounts, type ChaosCounts } from '../wires/chaos/chaos-counts.ts';
import type { ChaosSettings } from '../wires/chaos/chaos-node.ts';
import { parseChaosSpec } from '../wires/chaos/chaos-spec.ts';
import type { ProcessStats } from '../wires/messages.ts';

export interface ChaosArgs {
  chaos?: string;
  chaosSeed?: number;
}

export const DEFAULT_CHAOS_SEED = 1;

export const chaosOptions = {
  chaos: {
    type: 'string',
    describe: 'inject network faults: drop=P,delay=20ms±15ms,dup=P,reorder=P,bandwidth=10MB/s,partition=<node>@3s-8s,intruder=P,restart=<node>@4s; a rate@<node> is that node\'s own (nodes: master, worker-0, worker-1, ...)',
  },
  'chaos-seed': numberOption('chaos-seed', 'seed', { describe: `seed of the chaos layer's decisions (default ${DEFAULT_CHAOS_SEED})` }),
} as const;

/** The settings but the epoch, which the run's start (or a daemon's) decides. */
export type ChaosChoice = Omit<ChaosSettings, 'epochMs'>;

/** The chaos settings, or undefined without --chaos. */
export function readChaos(args: ChaosArgs): ChaosChoice | undefined {
  if (args.chaos === undefined) {
    if (args.chaosSeed !== undefined) throw new UsageError('--chaos-seed applies with --chaos <spec>');
    return undefined;
  }
  const seed = args.chaosSeed ?? DEFAULT_CHAOS_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--chaos-seed must be a whole number from 0 to ${0xffffffff}, got ${String(seed)}`);
  return { text: String(args.chaos), spec: parseChaosSpec(String(args.chaos)), seed };
}


/** `--json` under `chaos`: the settings, and the counts summed over the processes that reported them. */
export function chaosSummary(settings: ChaosSettings, processes: readonly ProcessStats[]): Record<string, unknown> {
  const reporting = processes.filter((p) => p.chaos);
  const counts: ChaosCounts = sumCounts(reporting.map((p) => p.chaos));
  return {
    spec: settings.text,
    seed: settings.seed,
    ...counts,
    dropped: counts.droppedRequests + counts.droppedReplies,
    partitions: settings.spec.partitions,
    ...(settings.spec.restarts ? { restarts: settings.spec.restarts } : {}),
    ...(settings.spec.nodes ? { ownRates: settings.spec.nodes } : {}),
    nodes: reporting.length,
  };
}

/** One line for stderr. */
export function formatChaosSummary(summary: Record<string, unknown>): string {
  const windows = (summary.partitions as { node: string; fromMs: number; toMs: number }[])
    .map((p) => `${p.node} ${p.fromMs / 1000}s-${p.toMs / 1000}s`).join(', ');
  return `mr: chaos (seed ${String(summary.seed)}, ${Number(summary.nodes ?? 0)} node(s)): `
    + formatChaosCounts(summary as Partial<ChaosCounts>, windows ? ` (${windows})` : undefined);
}

/**
 * What chaos layers did, as one line's words. The calls refused while cut off are said when
 * partitions were given (windows: how to name them, maybe '') or some were refused; forged calls
 * when there were some.
 */
export function formatChaosCounts(counts: Partial<ChaosCounts>, windows?: string): string {
  const n = (key: keyof ChaosCounts): number => Number(counts[key] ?? 0);
  return `${n('messages')} message(s), `
    + `${n('droppedRequests') + n('droppedReplies')} dropped (${n('droppedRequests')} requests, ${n('droppedReplies')} replies), ${n('delayed')} delayed, `
    + `${n('duplicated')} duplicated, ${n('reordered')} reordered, ${n('throttled')} throttled (${n('throttledMs')} ms)`
    + (windows !== undefined || n('partitioned') ? `, ${n('partitioned')} refused while cut off${windows ?? ''}` : '')
    + (n('intruders') ? `, ${n('intruders')} forged call(s), ${n('intrudersAdmitted')} admitted` : '');
}
