// `mr run --report`: the backend's own figures on stderr, one a line: the name it has under
// `backend` in --json, its value with its unit, and what it is (docs/running.md's table says more).
import type { BackendReport } from '../wires/index.ts';

/** What a figure is, by its name (`backend.name.figure` where it differs between backends). */
const MEANING: Record<string, string> = {
  'grpc.nodes': 'worker processes',
  'memory.nodes': 'workers in this process',
  'ssi.nodes': 'nodes of the pool (worker processes)',
  'horizontal.nodes': 'worker servers, the most at once',
  'hypercube.nodes': 'simulated nodes, one worker each',
  'butterfly.nodes': 'simulated processors, one worker each',
  'hypercube.messages': 'messages that crossed the links',
  'butterfly.messages': 'remote accesses through the switch',
  'hypercube.bytes': 'bytes that crossed the links',
  'butterfly.bytes': 'bytes accessed: local plus remote',
  messages: "the master's RPC messages (requests and replies)",
  bytes: "those messages' encoded bytes plus the shuffled bytes",
  elapsedMs: 'wall-clock time from submission to the end of the job (start-up excluded)',
  simulatedMs: "simulated time: when the last reduce reported, on the model's clock",
  'hypercube.simulatedMs': 'simulated time: when the last report reached the master, on the timeline the messages drive',
  untimedMessages: 'messages outside the simulated clock (heartbeats, their answers, cancels): they follow real seconds',
  'butterfly.simulatedMs': "simulated time: the latest processor's clock at the end",
  dimensions: 'dimensions of the hypercube (log2 of nodes)',
  preset: "the real machine whose figures the model takes (--preset), or none",
  switching: 'how a message crosses several links: store-and-forward or circuit',
  forwarded: 'messages a node received for another node and sent on',
  retransmissions: 'requests sent again after a try was lost (chaos, a broken stream)',
  refused: 'messages a node could not send on: their route passed through a node cut off',
  control: "the master's messages (hand-outs, reports, heartbeats): count, bytes, hops",
  shuffle: 'the fetches of map outputs: messages, bytes, hops, fetches, hops per (map, reducer) pair, simulated time',
  bisectionLinks: 'links across the bisection that carried anything',
  meanHops: 'hops per message, mean',
  maxHops: 'hops per message, most',
  hottestLink: 'the directed link that carried the most bytes',
  bisectionBytes: 'bytes that crossed between the two halves of the machine',
  linkBusyMs: 'transmission time per link (mean over the links used, and most)',
  linkBytes: 'bytes per link (mean over the links used, and most)',
  model: 'the machine model',
  links: 'links that carried anything (each in --json)',
  stages: 'stages of the switch (log2 of nodes)',
  localBytes: "bytes read or written in a node's own module",
  remoteBytes: 'bytes moved through the switch',
  switchConflicts: 'accesses refused by a busy switch, per stage',
  switchTraversals: 'remote accesses times stages',
  localAccesses: "accesses to a node's own module",
  remoteAccesses: "switch transactions (blocks) to another node's module",
  localCostMs: 'simulated time the processors spent on their own modules (summed)',
  remoteCostMs: 'simulated time the processors spent on remote accesses, refused cycles included (summed)',
  computeMs: 'simulated time the processors spent working through input (summed)',
  processorMs: "each processor's simulated clock at the end",
  remoteToLocalCost: 'a remote word access costs this many local ones (the model in force, no conflicts)',
  moduleMib: 'size of each memory module',
  spilledBytes: 'map output bytes that did not fit in their module and went to disk',
  boardCalls: "the processors' calls taken from the task board in module 0, by method",
  ringCalls: "the processors' calls that went over the shared-memory rings, by method",
  boardAccesses: 'accesses to the task board and barrier words, all in module 0',
  boardBytes: 'bytes of those accesses',
  boardConflicts: 'board accesses refused by a busy switch, per stage',
  barrierArrivals: 'map tasks counted at their stage barrier (each once)',
  barrierLate: 'reduce tasks that stopped waiting for their barrier before it was complete',
  remoteAccessesByModule: 'remote accesses, per module they went to',
  conflictsByModule: 'accesses refused by a busy switch, per module they went to',
  hotModule: 'the module whose accesses were refused most: the hot spot',
  hotModuleShare: "that module's share of the refusals",
  migrations: 'attempts moved to another node (drained or dead), not counted as failures',
  checkpoints: 'map checkpoints the master heard of (input position and spilled runs, every --checkpoint-ms)',
  resumes: 'map attempts started from a checkpoint of one that moved or was lost, not from the beginning',
  bytesResumed: 'input bytes those attempts did not read again',
  forwardedRequests: "requests a node sent to the node owning what they needed (a map output or checkpoint of another node's)",
  failovers: 'requests the balancer sent again to another server after theirs died',
  servers: 'servers over time: at ms since mr run started them, how many',
};

const UBER_NODES = 'uber: a worker inside mr run, no worker process';
const MAX_LISTED = 20;

/** uber: the job ran in mr run itself (uber-mode.ts), whatever the backend's nodes would be. */
export function formatBackendReport(report: BackendReport, elapsedMs: number, uber = false): string[] {
  const figures: [string, unknown][] = [...Object.entries(report).filter(([key]) => key !== 'name' && key !== 'nodes'), ['elapsedMs', elapsedMs]];
  const order = ['messages', 'bytes', 'elapsedMs', 'simulatedMs'];
  figures.sort(([a], [b]) => rank(order, a) - rank(order, b));
  const shown = figures.filter(([, value]) => value !== undefined);
  const width = Math.max(...shown.map(([key]) => key.length));
  return [
    `mr: backend ${report.name}: ${report.nodes} node(s) (${uber ? UBER_NODES : meaning(report.name, 'nodes') || 'nodes'})`,
    ...shown.map(([key, value]) => {
      const what = meaning(report.name, key);
      return `mr:   ${`${key}:`.padEnd(width + 1)} ${show(key, value)}${what ? ` - ${what}` : ''}`;
    }),
  ];
}

function meaning(backend: string, key: string): string {
  return MEANING[`${backend}.${key}`] ?? MEANING[key] ?? '';
}

function rank(order: string[], key: string): number {
  const at = order.indexOf(key);
  return at < 0 ? order.length : at;
}

/** A figure's value with its unit, which its name says (…Ms, …Bytes, …Mib, …Us, …Ns, …PerSec, …PerByte). */
function show(key: string, value: unknown): string {
  if (typeof value === 'number') return withUnit(key, value);
  if (Array.isArray(value)) {
    // a table (per link) stays in --json; a short list (per stage, a time line) is shown
    if (value.length > MAX_LISTED || value.some((item) => item !== null && typeof item === 'object' && 'from' in item)) return String(value.length);
    return value.map((item) => (item !== null && typeof item === 'object' ? showItem(item as Record<string, unknown>) : withUnit(key, item))).join(', ') || 'none';
  }
  if (value === null) return 'none';
  if (typeof value === 'object') {
    const { from, to } = value as Record<string, unknown>;
    if (from !== undefined && to !== undefined) return showItem(value as Record<string, unknown>);
    // { mean, max } of a figure takes the figure's unit
    return Object.entries(value).map(([k, v]) => `${k} ${/^(mean|max|min)$/.test(k) ? withUnit(key, v) : withUnit(k, v)}`).join(', ');
  }
  return String(value);
}

/** A link (from, to, ...) or a point of a time line (atMs, ...) in words. */
function showItem(item: Record<string, unknown>): string {
  const { from, to, atMs, ...rest } = item;
  const others = Object.entries(rest).map(([k, v]) => (k === 'bytes' || atMs !== undefined ? withUnit(k, v) : `${k} ${withUnit(k, v)}`)).join(', ');
  if (from !== undefined && to !== undefined) return `node ${String(from)} -> node ${String(to)}${others ? `: ${others}` : ''}`;
  if (atMs !== undefined) return `at ${String(atMs)} ms: ${others}`;
  return others;
}

function withUnit(key: string, value: unknown): string {
  if (typeof value !== 'number') return String(value);
  if (/bytes$/i.test(key) && !/PerByte$/.test(key)) return bytes(value);
  const unit = /Ms$/.test(key) ? 'ms' : /Us$/.test(key) ? 'µs' : /NsPerByte$/.test(key) ? 'ns/byte' : /Ns$/.test(key) ? 'ns'
    : /Mib$/.test(key) ? 'MiB' : /MbPerSec$/.test(key) ? 'MB/s' : /Hops$/.test(key) ? 'hop(s)' : '';
  return unit ? `${value} ${unit}` : String(value);
}

/** Bytes as they came, with a rounded size beside them past a kilobyte. */
function bytes(n: number): string {
  const exact = `${n} bytes`;
  if (n >= 1e9) return `${exact} (${(n / 1e9).toFixed(2)} GB)`;
  if (n >= 1e6) return `${exact} (${(n / 1e6).toFixed(2)} MB)`;
  if (n >= 1e3) return `${exact} (${(n / 1e3).toFixed(1)} kB)`;
  return exact;
}
