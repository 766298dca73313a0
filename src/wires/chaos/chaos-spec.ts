// The --chaos spec: which faults the chaos layer injects, from one comma-separated string such as
// `drop=0.05,delay=20ms±15ms,dup=0.02,reorder=0.05,bandwidth=10MB/s,partition=worker-2@3s-8s`.
// A rate followed by @<node> (`delay=80ms@worker-1`, `bandwidth=1MB/s@worker-0`) is that node's
// own: nodes whose links differ. `intruder=P` sends forged copies of calls (no valid token);
// `restart=<node>@<t>` kills a worker's process at t, as an administrator restarting its machine.
// Pure: no I/O, no clock. A bad spec is one UsageError line that names the part at fault.
import { UsageError } from '../../errors.ts';

export interface ChaosDelay {
  ms: number;
  jitterMs: number;              // each message's delay is uniform in [ms - jitterMs, ms + jitterMs]
}

/** A node cut off from every other one between fromMs and toMs after the chaos epoch. */
export interface ChaosPartition {
  node: string;
  fromMs: number;
  toMs: number;
}

/** A node's process killed (SIGKILL) atMs after the chaos epoch: restarted by whoever runs it. */
export interface ChaosRestart {
  node: string;
  atMs: number;
}

/** The rates of the network as one node's link meets them. */
export interface ChaosRates {
  drop: number;                  // probability that a message (request, reply, stream chunk) is lost
  dup: number;                   // probability that a request is delivered twice
  reorder: number;               // probability that a request is held back so that later ones overtake it
  delay?: ChaosDelay;
  bandwidthBytesPerSec?: number;
}

export interface ChaosSpec extends ChaosRates {
  partitions: ChaosPartition[];
  intruder?: number;             // probability that a call is also sent by an intruder, without a valid token
  restarts?: ChaosRestart[];
  nodes?: Record<string, Partial<ChaosRates>>; // rates of some nodes' own (`rate@node`), over the others
}

export const CHAOS_SWITCHES = ['drop', 'delay', 'dup', 'reorder', 'bandwidth', 'partition', 'intruder', 'restart'] as const;
const RATE_SWITCHES = new Set(['drop', 'delay', 'dup', 'reorder', 'bandwidth']);
const EXAMPLE = 'drop=0.05,delay=20ms±15ms,bandwidth=10MB/s,partition=worker-1@3s-8s';

const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;
const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
// `±`, or `+-` and `+/-` for keyboards (and shells) without it.
const DELAY = new RegExp(String.raw`^${NUMBER}(ms|s)(?:(?:±|\+-|\+/-)${NUMBER}(ms|s)?)?$`, 'i');
const BANDWIDTH = new RegExp(String.raw`^${NUMBER}(b|kb|mb|gb|kib|mib|gib)/s$`, 'i');
const NODE = String.raw`([A-Za-z0-9][\w.-]*)`;
const PARTITION = new RegExp(String.raw`^${NODE}@${NUMBER}(ms|s)?-${NUMBER}(ms|s)$`, 'i');
const RESTART = new RegExp(String.raw`^${NODE}@${NUMBER}(ms|s)$`, 'i');
const AT_NODE = new RegExp(String.raw`^(.*)@${NODE}$`);
const PROBABILITY = new RegExp(String.raw`^${NUMBER}(%?)$`);

export function parseChaosSpec(text: string): ChaosSpec {
  const spec: ChaosSpec = { drop: 0, dup: 0, reorder: 0, partitions: [] };
  const parts = String(text).split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new UsageError(`--chaos wants at least one switch, like --chaos ${EXAMPLE}`);
  const seen = new Set<string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 1) throw bad(part, 'expected switch=value');
    const key = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim().replace(/\s+/g, '');
    let rates: Partial<ChaosRates> = spec;
    const atNode = RATE_SWITCHES.has(key) ? AT_NODE.exec(value) : null;
    if (atNode) {
      value = atNode[1];
      spec.nodes ??= {};
      rates = spec.nodes[atNode[2]] ??= {};
    }
    const name = atNode ? `${key}@${atNode[2]}` : key;
    if (key !== 'partition' && key !== 'restart' && seen.has(name)) throw bad(part, `${name} is given twice`);
    seen.add(name);
    if (key === 'drop' || key === 'dup' || key === 'reorder') rates[key] = probability(part, value);
    else if (key === 'delay') rates.delay = delay(part, value);
    else if (key === 'bandwidth') rates.bandwidthBytesPerSec = bandwidth(part, value);
    else if (key === 'partition') spec.partitions.push(partition(part, value));
    else if (key === 'intruder') spec.intruder = probability(part, value);
    else if (key === 'restart') (spec.restarts ??= []).push(restart(part, value));
    else throw bad(part, `unknown switch ${key}; the switches are ${CHAOS_SWITCHES.join(', ')}`);
  }
  return spec;
}

/** The spec as one node meets it: its own rates (`rate@node`) over everyone's. */
export function specOfNode(spec: ChaosSpec, node: string): ChaosSpec {
  const own = spec.nodes?.[node];
  return own ? { ...spec, ...own } : spec;
}

/** Every node the spec names: in partitions, restarts and rates of its own. */
export function namedNodes(spec: ChaosSpec): string[] {
  return [...new Set([...spec.partitions.map((p) => p.node), ...(spec.restarts ?? []).map((r) => r.node), ...Object.keys(spec.nodes ?? {})])];
}

function bad(part: string, why: string): UsageError {
  return new UsageError(`--chaos ${part}: ${why} (e.g. --chaos ${EXAMPLE})`);
}

function probability(part: string, value: string): number {
  const match = PROBABILITY.exec(value);
  const p = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
  // 1 would lose every message: no job could ever finish.
  if (!(p >= 0 && p < 1)) throw bad(part, 'wants a probability from 0 up to (not including) 1, like 0.05 or 5%');
  return p;
}

function delay(part: string, value: string): ChaosDelay {
  const match = DELAY.exec(value);
  if (!match) throw bad(part, 'wants a delay and an optional jitter, like 20ms, 20ms±15ms or 1s+-200ms');
  const unit = match[2].toLowerCase();
  const ms = Number(match[1]) * TIME_UNITS[unit];
  const jitterMs = match[3] === undefined ? 0 : Number(match[3]) * TIME_UNITS[(match[4] ?? unit).toLowerCase()];
  if (jitterMs > ms) throw bad(part, `the jitter (${jitterMs} ms) cannot exceed the delay (${ms} ms)`);
  return { ms, jitterMs };
}

function bandwidth(part: string, value: string): number {
  const match = BANDWIDTH.exec(value);
  const bytesPerSec = match ? Number(match[1]) * BYTE_UNITS[match[2].toLowerCase()] : NaN;
  if (!(bytesPerSec >= 1)) throw bad(part, 'wants bytes per second, at least 1, like 10MB/s, 500KB/s or 1MiB/s');
  return bytesPerSec;
}

function restart(part: string, value: string): ChaosRestart {
  const match = RESTART.exec(value);
  if (!match) throw bad(part, 'wants <node>@<time>, like worker-1@4s (after the start of the run)');
  return { node: match[1], atMs: Number(match[2]) * TIME_UNITS[match[3].toLowerCase()] };
}

function partition(part: string, value: string): ChaosPartition {
  const match = PARTITION.exec(value);
  if (!match) throw bad(part, 'wants <node>@<from>-<to>, like worker-2@3s-8s (seconds after the start of the run)');
  const toUnit = match[5].toLowerCase();
  const fromMs = Number(match[2]) * TIME_UNITS[(match[3] ?? toUnit).toLowerCase()];
  const toMs = Number(match[4]) * TIME_UNITS[toUnit];
  if (!(toMs > fromMs)) throw bad(part, 'the window must end after it starts');
  return { node: match[1], fromMs, toMs };
}

/** The chaos name of a simulated machine's node (its worker): what --chaos partition=worker-<k>@... names. */
export function machineNodeName(node: number): string {
  return `worker-${node}`;
}
