// The text of `mr run`'s progress, as pure functions of numbers: the bar rows of a terminal, the
// plain lines of a pipe, megabytes, rates over a sliding window and ETAs. Time comes in as an argument.

/** One phase of one stage, as shown: every count and fraction already made monotone by the caller. */
export interface PhaseView {
  stage: number;
  stageCount: number;
  phase: 'map' | 'reduce';
  done: number;                  // tasks committed (the most seen)
  total: number;
  fraction: number;              // 0..1, from the master (src/core/progress.ts)
  bytes: number;                 // bytes processed so far in the phase
  totalBytes: number;            // what the phase has to process, as far as known (0: unknown)
  rateBytesPerS?: number;        // over the sliding window; undefined until known
  etaS?: number;                 // undefined until known
  rerunning: number;             // tasks committed once, running again (lost output)
}

const MB = 1e6;
export const DASH = '—';

export function formatMB(bytes: number): string {
  return `${(Math.max(0, bytes) / MB).toFixed(1)} MB`;
}

export function formatRate(bytesPerS: number | undefined): string {
  return bytesPerS === undefined ? `${DASH} MB/s` : `${(bytesPerS / MB).toFixed(1)} MB/s`;
}

/** Seconds rounded up (a remaining 0.2 s is "1 s"), then minutes and hours past 60 of each. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return DASH;
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Whole percent, rounded down: 99.9% of the work is "99%", never "100%" before it is all done. */
export function formatPercent(fraction: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** What is left at the current rate; undefined while the rate is unknown or zero, 0 when nothing is left. */
export function etaSeconds(remainingBytes: number, bytesPerS: number | undefined): number | undefined {
  if (remainingBytes <= 0) return 0;
  if (bytesPerS === undefined || !(bytesPerS > 0)) return undefined;
  return remainingBytes / bytesPerS;
}

/**
 * Bytes per second over the last windowMs: from the oldest sample in the window (or the last one
 * before it) to the newest. Undefined until the samples span at least minSpanMs.
 */
export class RateWindow {
  private samples: { tMs: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5000, private readonly minSpanMs = 500) {}

  add(tMs: number, bytes: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && tMs < last.tMs) return; // time only moves on
    this.samples.push({ tMs, bytes });
    // Keep one sample at or before the window's start, as its anchor.
    while (this.samples.length > 2 && this.samples[1].tMs <= tMs - this.windowMs) this.samples.shift();
  }

  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || last.tMs - first.tMs < this.minSpanMs) return undefined;
    return Math.max(0, last.bytes - first.bytes) / ((last.tMs - first.tMs) / 1000);
  }
}

function label(view: PhaseView): string {
  return view.stageCount > 1 ? `stage ${view.stage}/${view.stageCount} ${view.phase}` : view.phase;
}

function fields(view: PhaseView): string[] {
  const size = view.totalBytes > 0 ? `${formatMB(view.bytes).replace(' MB', '')}/${formatMB(view.totalBytes)}` : formatMB(view.bytes);
  return [
    `${view.done}/${view.total} tasks`,
    size,
    formatRate(view.rateBytesPerS),
    `ETA ${formatEta(view.etaS)}`,
    ...(view.rerunning > 0 ? [`re-running ${view.rerunning}`] : []),
  ];
}

/**
 * One terminal row, at most width characters: label, bar, percent, then the fields. The bar
 * shrinks first (down to 10 cells), then goes; past that the fields that do not fit are cut.
 */
export function barRow(view: PhaseView, width: number, labelWidth = 0): string {
  const head = label(view).padEnd(labelWidth);
  const tail = `${formatPercent(view.fraction).padStart(4)}  ${fields(view).join('  ')}`;
  const room = width - head.length - tail.length - 4; // the brackets and two spaces
  const cells = Math.min(30, room);
  const row = cells >= 10 ? `${head} [${barCells(view.fraction, cells)}] ${tail}` : `${head} ${tail}`;
  return fit(row, width);
}

function barCells(fraction: number, cells: number): string {
  const filled = Math.floor(Math.min(1, Math.max(0, fraction)) * cells);
  return '#'.repeat(filled) + '.'.repeat(cells - filled);
}

/** Cut to width characters, with an ellipsis when something was cut. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** The terminal block: one row per phase, labels aligned, each row fitting width - 1 (no wrap at the margin). */
export function barBlock(views: readonly PhaseView[], columns: number): string[] {
  const labelWidth = Math.max(0, ...views.map((v) => label(v).length));
  return views.map((view) => barRow(view, Math.max(1, columns - 1), labelWidth));
}

/** A plain line for a pipe, e.g. "mr: stage 1/1 map 12/16 tasks (75%), 48.2 MB, 10.1 MB/s, ETA 1 s". */
export function plainLine(view: PhaseView): string {
  const rerun = view.rerunning > 0 ? `, re-running ${view.rerunning}` : '';
  return `mr: stage ${view.stage}/${view.stageCount} ${view.phase} ${view.done}/${view.total} tasks (${formatPercent(view.fraction)}), `
    + `${formatMB(view.bytes)}, ${formatRate(view.rateBytesPerS)}, ETA ${formatEta(view.etaS)}${rerun}`;
}
