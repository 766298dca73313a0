// Which tasks of a phase hold it up, and why: a reducer given far more than its share of the
// input (skew), or a task running far longer than its finished peers (slow). Pure: the figures,
// elapsed times included, come in as arguments.

export interface TaskFigures {
  index: number;
  state: 'pending' | 'running' | 'done';
  elapsedMs: number;        // done: its committed attempt's time; running: since its oldest running attempt started
  inputRecords?: number;    // reduces: the records of its partition over every committed map output
  inputBytes?: number;
}

export interface StragglerThresholds {
  skewShareFactor: number;  // skewed: its share of the reduce input is at least this times the fair share (1/reducers) ...
  skewMedianFactor: number; // ... and its input is at least this times the median of its peers' inputs ...
  minSkewRecords: number;   // ... and the phase has at least this many input records (or, when records are unknown,
  minSkewBytes: number;     //     this many bytes): on tiny inputs the spread is noise
  slowFactor: number;       // slow: it has run (or ran) at least this times the median time of its finished peers ...
  minSlowMs: number;        // ... and at least this long
  maxListed: number;        // at most this many stragglers per phase, the worst first
}

export const DEFAULT_STRAGGLER_THRESHOLDS: StragglerThresholds = {
  skewShareFactor: 1.5, skewMedianFactor: 2, minSkewRecords: 1000, minSkewBytes: 64 << 10,
  slowFactor: 2, minSlowMs: 1000, maxListed: 10,
};

export interface Straggler {
  kind: 'map' | 'reduce';
  taskIndex: number;
  running: boolean;
  skewed: boolean;
  slow: boolean;
  inputShare: number;       // of the phase's input (records, else bytes); 0 when unknown
  fairShare: number;        // 1 / tasks of the phase
  inputVsMedian: number;    // its input over its peers' median input; 0 when unknown
  elapsedMs: number;
  elapsedVsMedian: number;  // its time over its finished peers' median time; 0 when no peer has finished
  message: string;          // e.g. "reducer 2: 47% of the reduce input (fair share 25%), 2.7x the median; ..."
}

/**
 * The stragglers of one phase, worst first: skewed tasks before merely slow ones, then by how far
 * they are from their peers. Input figures count only when every task has them (all maps done).
 */
export function findStragglers(kind: 'map' | 'reduce', tasks: readonly TaskFigures[],
  thresholds: StragglerThresholds = DEFAULT_STRAGGLER_THRESHOLDS): Straggler[] {
  if (tasks.length < 2) return [];
  const input = inputMeasure(tasks, thresholds);
  if (!input && !tasks.some((task) => task.elapsedMs >= thresholds.minSlowMs)) return []; // thousands of short maps: no sorting
  const inputs = input ? sorted(tasks.map(input.of)) : [];
  const total = inputs.reduce((sum, n) => sum + n, 0);
  const finished = sorted(tasks.filter((t) => t.state === 'done').map((t) => t.elapsedMs));
  const fairShare = 1 / tasks.length;
  const found: Straggler[] = [];
  for (const task of tasks) {
    // The common case, cheaply: a short task with no input figures is nobody's straggler.
    if (!input && task.elapsedMs < thresholds.minSlowMs) continue;
    const mine = input ? input.of(task) : 0;
    const inputShare = total > 0 ? mine / total : 0;
    const inputMedian = input ? medianWithout(inputs, mine) : 0;
    const inputVsMedian = !input ? 0 : inputMedian > 0 ? mine / inputMedian : mine > 0 ? Infinity : 0;
    const skewed = input !== undefined && inputShare >= thresholds.skewShareFactor * fairShare && inputVsMedian >= thresholds.skewMedianFactor;
    const peers = task.state === 'done' ? finished.length - 1 : finished.length;
    const timeMedian = peers > 0 ? (task.state === 'done' ? medianWithout(finished, task.elapsedMs) : median(finished)) : 0;
    const elapsedVsMedian = timeMedian > 0 ? task.elapsedMs / timeMedian : 0;
    const slow = task.state !== 'pending' && peers > 0 && task.elapsedMs >= thresholds.minSlowMs
      && task.elapsedMs >= thresholds.slowFactor * timeMedian;
    if (!skewed && !slow) continue;
    const running = task.state === 'running';
    const straggler = {
      kind, taskIndex: task.index, running, skewed, slow, inputShare, fairShare,
      inputVsMedian: Number.isFinite(inputVsMedian) ? inputVsMedian : 0, elapsedMs: task.elapsedMs, elapsedVsMedian,
    };
    found.push({ ...straggler, message: describe(straggler, input?.unit ?? 'records', inputVsMedian, timeMedian, peers) });
  }
  found.sort((a, b) => Number(b.skewed) - Number(a.skewed) || b.inputShare - a.inputShare || b.elapsedVsMedian - a.elapsedVsMedian);
  return found.slice(0, thresholds.maxListed);
}

/** Records when every task has them and there are enough; else bytes, likewise; else nothing. */
function inputMeasure(tasks: readonly TaskFigures[], t: StragglerThresholds): { of: (task: TaskFigures) => number; unit: string } | undefined {
  const sum = (of: (task: TaskFigures) => number | undefined) => tasks.reduce((n, task) => n + (of(task) ?? 0), 0);
  if (tasks.every((task) => task.inputRecords !== undefined) && sum((task) => task.inputRecords) >= t.minSkewRecords) {
    return { of: (task) => task.inputRecords as number, unit: 'records' };
  }
  if (tasks.every((task) => task.inputBytes !== undefined) && sum((task) => task.inputBytes) >= t.minSkewBytes) {
    return { of: (task) => task.inputBytes as number, unit: 'bytes' };
  }
  return undefined;
}

function describe(s: Omit<Straggler, 'message'>, unit: string, inputVsMedian: number, timeMedianMs: number, peers: number): string {
  const name = s.kind === 'reduce' ? 'reducer' : 'map';
  const parts: string[] = [];
  if (s.skewed) {
    const times = Number.isFinite(inputVsMedian) ? `${inputVsMedian.toFixed(1)}x the median` : 'its peers have none';
    parts.push(`${percent(s.inputShare)} of the ${s.kind} input ${unit} (fair share ${percent(s.fairShare)}), ${times}`);
  }
  if (s.slow) {
    const verb = s.running ? 'running for' : 'took';
    parts.push(`${verb} ${seconds(s.elapsedMs)}, ${s.elapsedVsMedian.toFixed(1)}x the median of its ${peers} finished peer${peers === 1 ? '' : 's'} (${seconds(timeMedianMs)})`);
  }
  return `${name} ${s.taskIndex}: ${parts.join('; ')}`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function sorted(values: number[]): number[] {
  return values.sort((a, b) => a - b);
}

function median(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? values[(n - 1) / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/** The median of sorted values with one occurrence of value left out (a task's peers). */
function medianWithout(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  const at = (i: number): number => values[i < lo ? i : i + 1];
  const n = values.length - 1;
  if (n <= 0) return 0;
  return n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}
