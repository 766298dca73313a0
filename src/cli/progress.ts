// Progress of a running job on stderr: on a TTY one bar per phase (per stage in a chain), redrawn
// in place at most ~10 times a second; otherwise plain lines, at most one every 2 s plus one per
// phase change and one at the end; nothing with --quiet. What is shown never goes backwards.
import type { JobStatus, StageStatus } from '../wires/messages.ts';
import { COUNTER } from '../core/counters.ts';
import { RateWindow, barBlock, etaSeconds, plainLine, type PhaseView } from './progress-format.ts';

export interface ProgressOptions {
  quiet: boolean;
  tty: boolean;
  write: (text: string) => void;
  columns?: () => number | undefined; // the terminal's width (process.stderr.columns)
}

const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 2000;

interface PhaseMemory {
  done: number;
  fraction: number;
  bytes: number;
  rate: RateWindow;
  frozen?: PhaseView;            // the phase is complete: its figures stay as they were then
}

/**
 * Turns job statuses into phase views: done counts, fractions and bytes never below what was
 * shown before (a master that lost a map output, or restarted, must not move the display back),
 * rates over a sliding window. Time comes in as an argument.
 */
export class ProgressModel {
  private readonly memory = new Map<string, PhaseMemory>();

  /** Every phase of every stage started so far, in order. */
  views(status: JobStatus, nowMs: number): PhaseView[] {
    const views: PhaseView[] = [];
    status.stages.forEach((stage, i) => {
      for (const phase of ['map', 'reduce'] as const) views.push(this.view(status, stage, i + 1, phase, nowMs));
    });
    return views;
  }

  /** The phase the job is in (for a finished or committing stage: its reduce). */
  current(status: JobStatus, views: readonly PhaseView[]): PhaseView | undefined {
    const phase = status.phase === 'map' ? 'map' : 'reduce';
    return views.find((v) => v.stage === status.stage && v.phase === phase) ?? views[views.length - 1];
  }

  private view(status: JobStatus, stage: StageStatus, index: number, phase: 'map' | 'reduce', nowMs: number): PhaseView {
    const key = `${index}/${phase}`;
    let memory = this.memory.get(key);
    if (!memory) {
      memory = { done: 0, fraction: 0, bytes: 0, rate: new RateWindow() };
      this.memory.set(key, memory);
    }
    const raw = phaseFigures(stage, phase);
    memory.done = Math.max(memory.done, raw.done);
    memory.fraction = Math.max(memory.fraction, raw.fraction, raw.total > 0 ? memory.done / raw.total : 0);
    memory.bytes = Math.max(memory.bytes, raw.bytes);
    const rerunning = phase === 'map' ? stage.mapRerunning ?? 0 : 0;
    if (memory.frozen && rerunning === 0) return memory.frozen;
    memory.rate.add(nowMs, memory.bytes);
    const complete = memory.fraction >= 1 && rerunning === 0;
    const rate = memory.rate.rate();
    const view: PhaseView = {
      stage: index, stageCount: Math.max(status.stageCount, status.stages.length), phase,
      done: memory.done, total: raw.total, fraction: memory.fraction, bytes: memory.bytes, totalBytes: raw.totalBytes,
      rateBytesPerS: rate, etaS: complete ? 0 : raw.totalBytes > 0 ? etaSeconds(raw.totalBytes - memory.bytes, rate) : undefined,
      rerunning,
    };
    if (complete) memory.frozen = view;
    return view;
  }
}

/**
 * A stage's figures for one phase, from what the master sent. Older masters send no progress: it
 * decodes as null, and their byte figures as 0.
 */
function phaseFigures(stage: StageStatus, phase: 'map' | 'reduce'): { done: number; total: number; fraction: number; bytes: number; totalBytes: number } {
  if (phase === 'map') {
    return {
      done: stage.mapDone, total: stage.mapTotal,
      fraction: stage.progress?.map ?? (stage.mapTotal > 0 ? stage.mapDone / stage.mapTotal : 0),
      bytes: stage.mapBytesRead || (stage.counters[COUNTER.mapInputBytes] ?? 0),
      totalBytes: stage.mapBytesTotal,
    };
  }
  return {
    done: stage.reduceDone, total: stage.reduceTotal,
    fraction: stage.progress?.reduce ?? (stage.reduceTotal > 0 ? stage.reduceDone / stage.reduceTotal : 0),
    bytes: stage.reduceBytesRead,
    totalBytes: stage.reduceBytesTotal,
  };
}

function keyOf(view: PhaseView): string {
  return `${view.stage}/${view.phase}`;
}

export class Progress {
  private readonly model = new ProgressModel();
  private drawnLines = 0;          // rows of the bar block on screen (TTY)
  private lastFrame = '';
  private lastDrawMs = -Infinity;
  private lastPhaseKey = '';
  private lastPlain = '';
  private lastPlainMs = -Infinity;
  private readonly printed = new Set<string>(); // phases that have had a plain line
  private ended = false;

  constructor(private readonly options: ProgressOptions) {}

  update(status: JobStatus, nowMs = Date.now()): void {
    if (this.options.quiet) return;
    const views = this.model.views(status, nowMs);
    const current = this.model.current(status, views);
    if (!current) return;
    const phaseKey = keyOf(current);
    const phaseChanged = phaseKey !== this.lastPhaseKey;
    const final = status.state !== 'running' && status.state !== 'queued';
    if (this.options.tty) this.draw(views, nowMs, phaseChanged || final);
    else this.plain(views, current, nowMs, phaseChanged, final);
    this.lastPhaseKey = phaseKey;
  }

  private draw(views: PhaseView[], nowMs: number, force: boolean): void {
    if (!force && nowMs - this.lastDrawMs < REDRAW_MS) return;
    const rows = barBlock(views, this.options.columns?.() || 80);
    const frame = rows.join('\n');
    if (frame === this.lastFrame && this.drawnLines > 0) return;
    // Back to the block's first row, then every row erased and written again: a shorter row
    // leaves nothing of the longer one it replaces.
    const up = this.drawnLines > 1 ? `\x1b[${this.drawnLines - 1}A` : '';
    this.options.write(`${up}\r${rows.map((row) => `\x1b[2K${row}`).join('\n')}`);
    this.drawnLines = rows.length;
    this.lastFrame = frame;
    this.lastDrawMs = nowMs;
  }

  private plain(views: PhaseView[], current: PhaseView, nowMs: number, phaseChanged: boolean, final: boolean): void {
    if (phaseChanged) {
      // The phase just left gets a line with its latest figures (map 16/16) if its last one had
      // older ones, and a phase passed between two polls (a short stage's map) gets one too.
      const at = views.indexOf(current);
      const due = views.slice(0, at).filter((v) => (keyOf(v) === this.lastPhaseKey ? plainLine(v) !== this.lastPlain : !this.printed.has(keyOf(v))));
      const left = views.find((v) => keyOf(v) === this.lastPhaseKey);
      if (left && views.indexOf(left) > at && plainLine(left) !== this.lastPlain) due.unshift(left); // back to map: maps re-run
      for (const view of due) this.writeLine(view, nowMs);
    }
    if (plainLine(current) === this.lastPlain) return;
    if (phaseChanged || final || nowMs - this.lastPlainMs >= PLAIN_EVERY_MS) this.writeLine(current, nowMs);
  }

  private writeLine(view: PhaseView, nowMs: number): void {
    const line = plainLine(view);
    this.options.write(`${line}\n`);
    this.printed.add(keyOf(view));
    this.lastPlain = line;
    this.lastPlainMs = nowMs;
  }

  /** A message of its own line (a warning, the job's id): after the bar, never inside it. */
  message(text: string): void {
    this.endBlock();
    this.options.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Ends the bar block so later messages (the summary, an error) start on a fresh line. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.endBlock();
  }

  private endBlock(): void {
    if (this.options.tty && this.drawnLines > 0) this.options.write('\n');
    this.drawnLines = 0;
    this.lastFrame = '';
  }
}
