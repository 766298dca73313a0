// The view of one job: its stages with map and reduce progress, figures, counters, reducers and
// stragglers; the timeline of its attempts; its failed attempts with their errors and logs.
import { formatBytes, formatCount, formatMs, h, morph, percentOf } from './dom.js';
import { phaseFraction } from './progress.js';
import { legend, timeline } from './timeline.js';

const LISTED_REDUCERS = 20;
const openDetails = new Set(); // the <details> a user opened stay open across updates

export function logUrl(jobId, attemptId) {
  return `/api/jobs/${encodeURIComponent(jobId)}/attempts/${encodeURIComponent(attemptId)}/log`;
}

/** A progress bar that shows `shown` (0..1); done/total beside it. */
export function progressBar(attrs, shown, text) {
  const pct = percentOf(shown);
  return h('div', {
    class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct,
    'aria-valuetext': `${pct}%${text ? `, ${text}` : ''}`, 'data-complete': pct === 100 ? 'true' : 'false', ...attrs,
  }, h('span', { class: 'fill', style: `width: ${pct}%` }), h('span', { class: 'label' }, `${pct}%`));
}

/** A job that failed or was killed: its bars stop where they were, greyed. */
export function stopped(job) {
  return job.state === 'failed' || job.state === 'killed' ? 'true' : undefined;
}

function remembered(key, summary, ...content) {
  return h('details', { 'data-key': key, open: openDetails.has(key) }, h('summary', {}, summary), ...content);
}

/** Keeps track of the <details> opened and closed in container (toggle does not bubble: captured). */
export function rememberDetails(container) {
  container.addEventListener('toggle', (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.dataset.key) return;
    if (details.open) openDetails.add(details.dataset.key);
    else openDetails.delete(details.dataset.key);
  }, true);
}

function phaseRow(job, n, phase, shown) {
  const stage = job.stages[n - 1];
  const done = stage?.[`${phase}Done`] ?? 0;
  const total = stage?.[`${phase}Total`] ?? 0;
  const running = stage?.[`${phase}Running`] ?? 0;
  const key = `${job.id}/${n}/${phase}`;
  const fraction = shown.show(key, phaseFraction(job, n, phase));
  const rerunning = phase === 'map' ? stage?.mapRerunning ?? 0 : 0; // maps whose output was lost with its worker
  const counts = `${done}/${total} done${running ? `, ${running} running` : ''}${rerunning ? `, ${rerunning} to rerun` : ''}`;
  return h('div', { class: 'phase' },
    h('span', { id: `label-${key}` }, phase),
    progressBar({ 'data-progress': phase, 'data-job': job.id, 'data-stage': n, 'aria-labelledby': `label-${key}`, 'data-stopped': stopped(job) }, fraction, counts),
    h('span', { class: 'counts' }, counts));
}

function figures(stage) {
  const shuffle = stage.counters?.['shuffle.bytes'];
  const items = [
    ['elapsed', formatMs(stage.elapsedMs)],
    ['shuffle', shuffle === undefined ? '–' : formatBytes(shuffle)],
    ['attempts', formatCount((stage.mapAttempts ?? 0) + (stage.reduceAttempts ?? 0))],
    ['failed', formatCount(stage.failedAttempts ?? 0)],
    ['backups', formatCount(stage.backupAttempts ?? 0)],
  ];
  return h('dl', { class: 'figures' }, items.map(([name, value]) => h('div', { 'data-figure': name }, h('dt', {}, name), h('dd', {}, value))));
}

function counterTable(key, counters) {
  const names = Object.keys(counters ?? {}).sort();
  if (names.length === 0) return null;
  return remembered(`${key}/counters`, `Counters (${names.length})`,
    h('table', { class: 'small' },
      h('thead', {}, h('tr', {}, h('th', {}, 'counter'), h('th', { class: 'num' }, 'value'))),
      h('tbody', {}, names.map((name) => h('tr', {}, h('td', { class: 'mono' }, name),
        h('td', { class: 'num' }, name.endsWith('bytes') ? formatBytes(counters[name]) : formatCount(counters[name])))))));
}

function reducerTable(key, stage) {
  const reduces = stage.reduces ?? [];
  if (reduces.length === 0) return null;
  const named = new Set((stage.stragglers ?? []).filter((s) => s.kind === 'reduce').map((s) => s.taskIndex));
  const shown = reduces.length <= LISTED_REDUCERS ? reduces : reduces.filter((r) => r.state === 'running' || named.has(r.index));
  return remembered(`${key}/reducers`, `Reducers (${reduces.length})`,
    h('table', { class: 'small' },
      h('thead', {}, h('tr', {}, ['reducer', 'state', 'records', 'bytes', 'time', 'attempts'].map((c, i) => h('th', { class: i >= 2 ? 'num' : undefined }, c)))),
      h('tbody', {}, shown.map((r) => h('tr', { 'data-reducer': r.index },
        h('td', {}, `${r.index}${named.has(r.index) ? ' (straggler)' : ''}`), h('td', {}, r.state),
        h('td', { class: 'num' }, `${formatCount(r.inputRecords)}${r.inputKnown ? '' : ' so far'}`),
        h('td', { class: 'num' }, formatBytes(r.inputBytes)), h('td', { class: 'num' }, formatMs(r.elapsedMs)),
        h('td', { class: 'num' }, formatCount(r.attempts)))))),
    shown.length < reduces.length ? h('p', { class: 'muted' }, `${reduces.length - shown.length} more reducers, neither running nor stragglers.`) : null);
}

function stragglerList(stage) {
  const stragglers = stage.stragglers ?? [];
  if (stragglers.length === 0) return null;
  return h('ul', { class: 'stragglers', 'aria-label': 'Stragglers' }, stragglers.map((s) => h('li', { 'data-straggler': `${s.kind}-${s.taskIndex}` },
    s.skewed ? h('span', { class: 'tag skewed' }, 'skewed') : null,
    s.slow ? h('span', { class: 'tag slow' }, 'slow') : null,
    s.message)));
}

function stageCard(job, n, shown) {
  const stage = job.stages[n - 1];
  const key = `${job.id}/${n}`;
  const current = n === job.stage && job.state === 'running';
  return h('article', { class: 'stage', 'data-stage': n, 'aria-label': `Stage ${n}` },
    h('h3', {}, `Stage ${n}${job.stageCount > 1 ? ` of ${job.stageCount}` : ''}${current ? ` · ${job.phase}` : ''}`),
    phaseRow(job, n, 'map', shown),
    phaseRow(job, n, 'reduce', shown),
    stage ? [figures(stage), stragglerList(stage), counterTable(key, stage.counters), reducerTable(key, stage)] : h('p', { class: 'muted' }, 'not started'));
}

function failedAttempts(job, attempts) {
  const failed = attempts.filter((a) => a.state === 'failed' || a.state === 'lost');
  const list = failed.length === 0
    ? h('p', { class: 'muted' }, 'None.')
    : h('ul', { class: 'attempts' }, failed.map((a) => h('li', { 'data-attempt': a.attemptId, 'data-state': a.state },
      h('strong', {}, a.state === 'lost' ? '? lost' : '✕ failed'), ' ',
      h('span', { class: 'mono' }, a.task), ` on ${a.workerId}`,
      a.endedMs ? `, after ${formatMs(a.endedMs - a.startedMs)}` : '',
      a.backup ? ' (backup copy)' : '', ' · ',
      h('a', { href: logUrl(job.id, a.attemptId), target: '_blank', rel: 'noopener', 'data-log': a.attemptId }, 'log'),
      h('span', { class: 'error mono' }, a.error || (a.state === 'lost' ? 'its worker stopped answering' : '(no error message)')))));
  const lost = failed.filter((a) => a.state === 'lost').length;
  const title = lost ? `Failed and lost attempts (${failed.length - lost} failed, ${lost} lost)` : `Failed attempts (${failed.length})`;
  return [h('h3', { id: 'failed-title' }, title), list];
}

/**
 * The job's view. Returns the element and a function that redraws only the timeline into the
 * page's .timeline-slot (for the running attempts' bars to grow between updates).
 */
export function jobView(detail, shown, widthPx) {
  const { job } = detail;
  const attempts = detail.attempts ?? [];
  const stageCount = Math.max(job.stageCount ?? 1, job.stages?.length ?? 0);
  const slot = h('div', { class: 'timeline-slot' });
  const drawTimeline = (nowMs, into = slot) => {
    const drawn = timeline(attempts, detail.workers, nowMs, widthPx, stageCount);
    if (into.firstChild) morph(into.firstChild, drawn);
    else into.append(drawn);
  };
  drawTimeline(detail.nowMs ?? Math.max(0, ...attempts.map((a) => a.endedMs || a.startedMs)));
  const root = h('div', { 'data-job': job.id },
    h('div', { class: 'job-head' },
      h('h2', {}, 'Job ', h('span', { class: 'mono' }, job.id)),
      h('span', { class: 'state', 'data-state': job.state }, job.state),
      h('span', {}, `stage ${job.stage}/${job.stageCount}`, job.state === 'running' ? ` · ${job.phase}` : ''),
      h('span', {}, formatMs(job.elapsedMs)),
      h('span', { class: 'muted' }, 'output ', h('code', {}, job.outputDir))),
    job.error ? h('p', { class: 'job-error', role: 'alert' }, job.error) : null,
    h('div', { class: 'stages' }, Array.from({ length: stageCount }, (_, i) => stageCard(job, i + 1, shown))),
    h('h3', {}, 'Tasks over time, by worker'),
    slot,
    legend(),
    failedAttempts(job, attempts));
  return { root, drawTimeline, running: attempts.some((a) => a.state === 'running') };
}
