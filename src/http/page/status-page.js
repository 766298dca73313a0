// The status page of `mr master --http`: the jobs, live from the master's event stream
// (/events, which EventSource reconnects by itself), and the selected job's detail, fetched
// again on every event. No build step and no network beyond the master.
import { formatMs, h, morph } from './dom.js';
import { jobFraction, ShownProgress } from './progress.js';
import { jobView, progressBar, rememberDetails, stopped } from './job-view.js';

const shown = new ShownProgress();
const page = {
  jobs: [],
  selected: decodeURIComponent(location.hash.slice(1)) || null,
  view: null,       // { drawTimeline, running, nowMs, atMs } of the shown job
  fetching: false,  // a fetch of the selected job is under way ...
  again: false,     // ... and another is due when it ends
};

const $ = (id) => document.getElementById(id);

function setConnection(state, text) {
  const el = $('connection');
  el.dataset.state = state;
  el.textContent = text;
}

function select(jobId) {
  if (page.selected === jobId) return;
  page.selected = jobId;
  history.replaceState(null, '', `#${encodeURIComponent(jobId)}`);
  renderJobs();
  void refreshJob();
}

function jobItem(job) {
  const fraction = shown.show(`${job.id}/job`, jobFraction(job));
  const phase = job.state === 'running' ? ` · ${job.phase} ${job[`${job.phase}Done`] ?? 0}/${job[`${job.phase}Total`] ?? 0}` : '';
  return h('li', {}, h('button', {
    type: 'button', class: 'job-item', 'data-job-row': job.id, 'aria-current': job.id === page.selected ? 'true' : 'false',
  },
  h('span', { class: 'row' }, h('span', { class: 'id', title: job.id }, job.id), h('span', { class: 'state', 'data-state': job.state }, job.state)),
  h('span', { class: 'meta' }, `stage ${job.stage}/${job.stageCount}${phase} · ${formatMs(job.elapsedMs)}`),
  progressBar({ 'data-progress': 'job', 'data-job': job.id, 'aria-label': `job ${job.id} progress`, 'data-stopped': stopped(job) }, fraction)));
}

function renderJobs() {
  morph($('job-list'), h('ul', { id: 'job-list', class: 'job-list' }, page.jobs.map(jobItem))); // newest first, as listed
  $('no-jobs').hidden = page.jobs.length > 0;
}

function setJobs(jobs) {
  page.jobs = Array.isArray(jobs) ? jobs : [];
  if (!page.selected && page.jobs.length > 0) {
    select((page.jobs.find((j) => j.state === 'running') ?? page.jobs[0]).id);
  }
  renderJobs();
}

function renderJob(detail) {
  const section = $('job');
  const { root, drawTimeline, running } = jobView(detail, shown, section.clientWidth - 30);
  const shownJob = section.firstElementChild;
  if (shownJob?.dataset.job === detail.job.id) morph(shownJob, root);
  else section.replaceChildren(root);
  document.title = `${detail.job.state} ${detail.job.id} · mr status`;
  page.view = { drawTimeline, running: running && detail.job.state === 'running', nowMs: detail.nowMs, atMs: performance.now() };
}

/** Fetches the selected job; calls made while one is under way make one more fetch after it. */
async function refreshJob() {
  if (!page.selected) return;
  if (page.fetching) { page.again = true; return; }
  page.fetching = true;
  try {
    do {
      page.again = false;
      const jobId = page.selected;
      const response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}`);
      if (jobId !== page.selected) continue;
      if (response.status === 404) {
        $('job').replaceChildren(h('p', { class: 'muted' }, `No job ${jobId} on this master.`));
        page.view = null;
      } else if (response.ok) {
        renderJob(await response.json());
      }
    } while (page.again);
  } catch {
    setConnection('reconnecting', 'master unreachable, retrying…');
  } finally {
    page.fetching = false;
  }
}

async function refreshJobs() {
  try {
    const response = await fetch('/api/jobs');
    if (response.ok) setJobs((await response.json()).jobs);
  } catch {
    setConnection('reconnecting', 'master unreachable, retrying…');
  }
}

function connect() {
  const events = new EventSource('/events');
  events.addEventListener('open', () => {
    setConnection('live', 'live');
    void refreshJobs().then(refreshJob); // what changed while the stream was down
  });
  events.addEventListener('jobs', (event) => {
    try {
      setJobs(JSON.parse(event.data).jobs);
    } catch {
      return; // a torn message: the next one carries the whole list again
    }
    void refreshJob();
  });
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) { // refused for good (not a 200): try again later
      setConnection('reconnecting', 'disconnected, retrying…');
      setTimeout(connect, 3000);
    } else {
      setConnection('reconnecting', 'reconnecting…');
    }
  });
}

// Running attempts' bars grow with the master's clock between updates.
setInterval(() => {
  const view = page.view;
  const slot = document.querySelector('#job .timeline-slot');
  if (view?.running && slot) view.drawTimeline(view.nowMs + (performance.now() - view.atMs), slot);
}, 1000);

$('job-list').addEventListener('click', (event) => {
  const row = event.target instanceof Element ? event.target.closest('[data-job-row]') : null;
  if (row) select(row.dataset.jobRow);
});
rememberDetails($('job'));

window.addEventListener('hashchange', () => {
  const jobId = decodeURIComponent(location.hash.slice(1));
  if (jobId && jobId !== page.selected) select(jobId);
});

let resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => void refreshJob(), 200);
});

connect();
