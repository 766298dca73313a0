// The task timeline: one row per worker, one bar per attempt from its start to its end (or to now
// while it runs), coloured by outcome and marked with a glyph, so that it reads without colour too.
// Backup copies are hatched with a dashed outline.
import { formatMs, h, svg } from './dom.js';

export const OUTCOMES = [
  { state: 'succeeded', glyph: '✓', label: 'succeeded' },
  { state: 'running', glyph: '▶', label: 'running' },
  { state: 'failed', glyph: '✕', label: 'failed' },
  { state: 'lost', glyph: '?', label: 'lost (its worker, or the map output it read, went away)' },
  { state: 'rejected', glyph: '⊘', label: 'rejected (another copy committed)' },
  { state: 'cancelled', glyph: '–', label: 'cancelled (its job ended, or another copy committed)' },
];
const BY_STATE = new Map(OUTCOMES.map((o) => [o.state, o]));
const outcomeOf = (state) => BY_STATE.get(state) ?? { state: 'cancelled', glyph: '–', label: state };

const LABEL_W = 170;
const ROW_H = 26;
const BAR_H = 20;
const AXIS_H = 20;
const MAX_LABELLED = 2000; // past this many attempts, bars carry no text (their tooltips still do): redraws stay quick
const TICK_STEPS_S = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** "s1.map-3" -> "map 3" (or "m3" when short), with the stage when the job has several. */
function taskLabel(task, stageCount, room) {
  const match = /^s(\d+)\.(map|reduce)-(\d+)$/.exec(task);
  if (!match) return task;
  const [, stage, kind, index] = match;
  const prefix = stageCount > 1 ? `${stage}:` : '';
  return room >= 70 ? `${prefix}${kind} ${index}` : `${prefix}${kind[0]}${index}`;
}

/** Worker rows in a stable order: the known workers first, then any only the attempts name. */
function workerRows(attempts, workers) {
  const rows = new Map();
  for (const w of workers ?? []) rows.set(w.workerId, { id: w.workerId, address: w.address, alive: w.alive, figures: figuresOf(w) });
  for (const a of attempts) if (!rows.has(a.workerId)) rows.set(a.workerId, { id: a.workerId });
  return [...rows.values()];
}

/** A worker's attempts of this job (the job's status counts them), for its row's tooltip. */
function figuresOf(w) {
  if (w.succeeded === undefined) return '';
  return `: ${w.running ?? 0} running, ${w.succeeded} succeeded, ${w.failed ?? 0} failed in this job`;
}

function describe(a, end) {
  const outcome = outcomeOf(a.state);
  const took = formatMs(end - a.startedMs);
  return `${a.task} on ${a.workerId}: ${outcome.label}${a.backup ? ', backup copy' : ''}, ${took}` +
    `${a.error ? ` — ${a.error}` : ''} (attempt ${a.attemptId})`;
}

/**
 * A worker running several attempts at once (--slots) gets a lane for each: an attempt goes in
 * the first lane of its worker free when it starts. laneOf: attempt -> lane over all rows;
 * top[i]: the first lane of row i (top[rows.length]: the lane count).
 */
function packLanes(rows, attempts, endOf) {
  const laneOf = new Map();
  const top = [0];
  const byWorker = new Map(rows.map((row) => [row.id, []]));
  for (const a of attempts) byWorker.get(a.workerId).push(a);
  rows.forEach((row, i) => {
    const ends = []; // per lane of this row, when its last attempt ends
    for (const a of byWorker.get(row.id).sort((p, q) => p.startedMs - q.startedMs)) {
      let lane = ends.findIndex((end) => end <= a.startedMs);
      if (lane < 0) lane = ends.push(0) - 1;
      ends[lane] = endOf(a);
      laneOf.set(a, top[i] + lane);
    }
    top.push(top[i] + Math.max(1, ends.length));
  });
  return { laneOf, top, lanes: top[rows.length] };
}

/** The timeline of a job's attempts as an SVG, widthPx wide; nowMs is the master's clock now. */
export function timeline(attempts, workers, nowMs, widthPx, stageCount) {
  const rows = workerRows(attempts, workers);
  if (attempts.length === 0) return h('p', { class: 'muted' }, 'No attempts yet.');
  const width = Math.max(600, Math.floor(widthPx));
  const plotW = width - LABEL_W - 10;
  const endOf = (a) => (a.endedMs > 0 ? a.endedMs : Math.max(nowMs, a.startedMs));
  const t0 = Math.min(...attempts.map((a) => a.startedMs));
  const t1 = Math.max(...attempts.map(endOf));
  const spanMs = Math.max(1000, t1 - t0);
  const x = (t) => LABEL_W + ((t - t0) / spanMs) * plotW;
  const { laneOf, top, lanes } = packLanes(rows, attempts, endOf);
  const height = AXIS_H + top[rows.length] * ROW_H + 4;

  const root = svg('svg', {
    class: 'timeline', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `Task timeline: ${attempts.length} attempts on ${rows.length} workers over ${formatMs(spanMs)}` +
      (lanes > rows.length ? ', several at once on some workers' : ''),
  }); // the hatch pattern, #mr-hatch, is defined once in index.html

  const stepS = TICK_STEPS_S.find((s) => (spanMs / 1000) / s <= 10) ?? 7200;
  for (let s = 0; s * 1000 <= spanMs; s += stepS) {
    const tx = x(t0 + s * 1000);
    root.append(svg('line', { class: 'grid', x1: tx, x2: tx, y1: AXIS_H - 4, y2: height }));
    if (tx + 36 <= width) root.append(svg('text', { class: 'axis', x: tx + 2, y: AXIS_H - 7 }, `${Number(s.toFixed(1))} s`));
  }

  rows.forEach((row, i) => {
    const y = AXIS_H + top[i] * ROW_H;
    if (i > 0) root.append(svg('line', { class: 'grid', x1: 0, x2: width, y1: y - 3, y2: y - 3 }));
    const name = row.id.length > 24 ? `${row.id.slice(0, 23)}…` : row.id;
    root.append(svg('text', { class: 'worker', 'data-worker': row.id, x: 0, y: y + BAR_H - 3 },
      svg('title', {}, `worker ${row.id}${row.address ? ` at ${row.address}` : ''}${row.alive === false ? ' (dead)' : ''}${row.figures ?? ''}`),
      `${name}${row.alive === false ? ' †' : ''}`));
  });
  for (const a of attempts) {
    const y = AXIS_H + laneOf.get(a) * ROW_H;
    const left = x(a.startedMs);
    const w = Math.max(3, x(endOf(a)) - left);
    const outcome = outcomeOf(a.state);
    const group = svg('g', { class: 'attempt-bar', 'data-attempt': a.attemptId, 'data-state': outcome.state, 'data-backup': a.backup ? 'true' : 'false' },
      svg('title', {}, describe(a, endOf(a))),
      svg('rect', { class: `attempt s-${outcome.state}${a.backup ? ' backup' : ''}`, x: left, y, width: w, height: BAR_H, rx: 2 }));
    if (a.backup) group.append(svg('rect', { x: left, y, width: w, height: BAR_H, rx: 2, fill: 'url(#mr-hatch)' }));
    if (w >= 14 && attempts.length <= MAX_LABELLED) {
      const text = w >= 40 ? `${outcome.glyph} ${taskLabel(a.task, stageCount, w)}` : outcome.glyph;
      group.append(svg('text', { class: 'bar-label', x: left + 3, y: y + BAR_H - 6 }, text));
    }
    root.append(group);
  }
  if (attempts.some((a) => a.state === 'running')) {
    const nx = x(nowMs);
    root.append(svg('line', { x1: nx, x2: nx, y1: AXIS_H - 4, y2: height, stroke: '#10151f', 'stroke-dasharray': '2 3' }));
  }
  return h('div', { class: 'timeline-wrap' }, root);
}

/** The key to the timeline's colours and glyphs. */
export function legend() {
  const swatch = (cls, glyph, hatched) => svg('svg', { width: 34, height: 16, 'aria-hidden': 'true' },
    svg('rect', { class: `attempt ${cls}`, x: 0.75, y: 0.75, width: 32.5, height: 14.5, rx: 2 }),
    hatched ? svg('rect', { x: 0.75, y: 0.75, width: 32.5, height: 14.5, rx: 2, fill: 'url(#mr-hatch)' }) : null,
    glyph ? svg('text', { class: 'bar-label', x: 4, y: 12 }, glyph) : null);
  return h('ul', { class: 'legend', 'aria-label': 'Timeline legend' },
    OUTCOMES.map((o) => h('li', {}, swatch(`s-${o.state}`, o.glyph), o.label)),
    h('li', {}, swatch('s-succeeded backup', '', true), 'backup copy (hatched, dashed outline)'),
    h('li', {}, '† dead worker'));
}
