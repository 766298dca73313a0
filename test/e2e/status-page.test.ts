// The status page of `mr master --http` in a real browser (the system's Chromium, headless, driven
// by playwright-core): jobs appear and progress live without a reload, progress never goes
// backwards, a failed attempt shows its error and its log, a failed job its error; no console errors.
// Without a Chromium on the machine the suite is skipped (MR_CHROMIUM names one elsewhere).
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { FIXTURES, ROOT, finished, removeDir, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { until } from '../helpers/until.ts';

function findChromium(): string | undefined {
  if (process.env.MR_CHROMIUM) return process.env.MR_CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch { /* not here */ }
    }
  }
  return undefined;
}

const CHROMIUM = findChromium();
if (!CHROMIUM) console.warn('status page browser test skipped: no Chromium found (install chromium, or set MR_CHROMIUM to a Chromium or Chrome binary)');

const FILES = 8;
const LINES = 40;
const FAIL_ON = 'fail here';

let dir: string;
let cluster: Cluster;
let browser: Browser;

async function writeInputs(): Promise<void> {
  await mkdir(join(dir, 'slow'), { recursive: true });
  await mkdir(join(dir, 'holmes'), { recursive: true });
  await mkdir(join(dir, 'markers'), { recursive: true });
  for (let f = 0; f < FILES; f++) {
    const lines = Array.from({ length: LINES }, (_, i) => (f === 3 && i === LINES / 2 ? `line ${i}: ${FAIL_ON}` : `line ${i} of file ${f}`));
    await writeFile(join(dir, 'slow', `input-${f}.txt`), `${lines.join('\n')}\n`);
  }
  await writeFile(join(dir, 'holmes', 'story.txt'), 'To Sherlock Holmes she is always the woman.\n');
}

/** Every progress bar of a job on the page, by stage and phase ("job", "1map", "1reduce"): its percentage. */
function progressOf(page: Page, jobId: string): Promise<Record<string, number>> {
  return page.evaluate((id) => Object.fromEntries([...document.querySelectorAll<HTMLElement>(`[data-progress][data-job="${CSS.escape(id)}"]`)]
    .map((el) => [`${el.dataset.stage ?? ''}${el.dataset.progress}`, Number(el.getAttribute('aria-valuenow'))])), jobId);
}

/** The samples where a bar showed less than it had shown before. */
function decreases(series: Record<string, number[]>): string[] {
  return Object.entries(series).flatMap(([bar, values]) =>
    values.flatMap((v, i) => (i > 0 && v < values[i - 1] ? [`${bar}: ${values[i - 1]}% then ${v}%`] : [])));
}

describe.skipIf(!CHROMIUM)('the status page (mr master --http) in a browser', () => {
  beforeAll(async () => {
    dir = await tempDir();
    await writeInputs();
    cluster = await startCluster(join(dir, 'cluster'), 2, ['--http', '127.0.0.1:0']);
    if (!cluster.http) throw new Error('mr master --http printed no http address');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    await removeDir(dir);
  });

  it('shows jobs live: progress up to 100% that never goes back, a failed attempt with its log, a failed job', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`http://${cluster.http!}/`);
    await page.locator('#connection[data-state="live"]').waitFor();

    // A job of several seconds whose first attempt at one map fails; then a job that fails outright.
    const slow = startMr(['run', join(FIXTURES, 'fails-once.ts'), '--input', join(dir, 'slow', '*.txt'), '--output', join(dir, 'out-slow'),
      '--master', cluster.address, '--reducers', '2', '--no-packing', '--set', 'lineMs=30', '--set', `failOn=${FAIL_ON}`, '--set', `markerDir=${join(dir, 'markers')}`]);
    const slowDone = finished(slow);
    const [, slowId] = await stderrMatch(slow, /^job (\S+)$/m);
    const row = page.locator(`[data-job-row="${slowId}"]`);
    await row.waitFor(); // no reload: it came by the event stream
    await row.click();
    const failing = startMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', join(dir, 'holmes', '*.txt'), '--output', join(dir, 'out-holmes'),
      '--master', cluster.address, '--quiet']);
    const failingDone = finished(failing);
    const [, failingId] = await stderrMatch(failing, /^job (\S+)$/m);

    const series: Record<string, number[]> = {};
    let exited = false;
    void slowDone.then(() => (exited = true));
    let screenshot = process.env.MR_SCREENSHOT !== '1';
    await until('the slow job at 100% on the page', async () => {
      const sample = await progressOf(page, slowId);
      for (const [bar, value] of Object.entries(sample)) (series[bar] ??= []).push(value);
      // The picture in the README: mid-run, the failed attempt and running ones on the timeline.
      if (!screenshot && sample['1map'] >= 50 && await page.locator('.attempt-bar[data-state="failed"]').count() > 0 &&
        await page.locator('.attempt-bar[data-state="running"]').count() > 0) {
        await page.screenshot({ path: join(ROOT, 'docs', 'status-page.png') });
        screenshot = true;
      }
      const complete = ['job', '1map', '1reduce'].every((bar) => sample[bar] === 100);
      return exited && complete ? true : undefined;
    }, 90_000, 100);
    if (!screenshot) await page.screenshot({ path: join(ROOT, 'docs', 'status-page.png') });

    expect((await slowDone).code).toBe(0);
    expect(Object.keys(series).sort()).toEqual(['1map', '1reduce', 'job']);
    expect(decreases(series)).toEqual([]);
    expect(Math.min(...series.job)).toBeLessThan(100);
    expect(new Set(series['1map']).size).toBeGreaterThanOrEqual(3); // it moved while we watched
    expect(await row.locator('.state').getAttribute('data-state')).toBe('succeeded'); // the job bar reaches 100% only then

    // The failed attempt: on the timeline, and listed with its error and a link to its log.
    const planned = `planned failure of the first attempt to reach "line 20: ${FAIL_ON}"`;
    expect(await page.locator('.attempt-bar[data-state="failed"]').count()).toBeGreaterThanOrEqual(1);
    const failed = page.locator('#job .attempts li[data-state="failed"]').filter({ hasText: planned });
    expect(await failed.count()).toBe(1);
    expect(await failed.locator('.error').innerText()).toContain(planned);
    expect(await failed.locator('.mono').first().innerText()).toBe('s1.map-3');
    const [log] = await Promise.all([page.context().waitForEvent('page'), failed.locator('a[data-log]').click()]);
    await log.waitForLoadState();
    expect(await log.locator('body').innerText()).toContain(`about to fail on: line 20: ${FAIL_ON}`);
    await log.close();

    // The job that failed: its state in the list, its error and its failed attempts in its view.
    expect((await failingDone).code).toBe(1);
    const failingRow = page.locator(`[data-job-row="${failingId}"]`);
    await failingRow.locator('.state[data-state="failed"]').waitFor();
    await failingRow.click();
    await page.locator(`#job > [data-job="${failingId}"] .job-error`).waitFor();
    expect(await page.locator('#job .job-error').innerText()).toContain('no Holmes allowed');
    expect(await page.locator('#job .attempts li[data-state="failed"]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#job .attempts li[data-state="failed"] .error').first().innerText()).toContain('no Holmes allowed');

    expect(problems).toEqual([]);
    await page.close();
  });
});
