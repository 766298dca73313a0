// `mr master --http`: the status server of a real master with workers, after real jobs: its JSON,
// its Server-Sent Events, its Prometheus metrics, and who may read them.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { FIXTURES, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let cluster: Cluster;
let base: string;
let wordcount: { id: string; mapTotal: number; reduceTotal: number };
let failing: string;

/** Three small input files (three map tasks); one line names Holmes, which throws-in-map.ts refuses. */
async function inputs(): Promise<string> {
  const input = join(dir, 'input');
  await mkdir(input, { recursive: true });
  await writeFile(join(input, 'a.txt'), 'the quick brown fox\njumps over the lazy dog\n');
  await writeFile(join(input, 'b.txt'), 'a study in scarlet\nSherlock Holmes\n');
  await writeFile(join(input, 'c.txt'), 'the sign of four\n');
  return join(input, '*.txt');
}

async function submit(job: string, out: string, ...more: string[]): Promise<{ code: number | null; id: string }> {
  const r = await runMr(['run', job, '--input', join(dir, 'input', '*.txt'), '--output', join(dir, out), '--master', cluster.address, '--quiet', ...more]);
  return { code: r.code, id: /^job (\S+)$/m.exec(r.stderr)?.[1] ?? '' };
}

const get = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);

beforeAll(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir, 'cluster'), 2, ['--http', '127.0.0.1:0']);
  base = `http://${cluster.http}`;
  await inputs();
  const ok = await submit('jobs/wordcount.ts', 'out-wordcount', '--reducers', '2');
  expect(ok.code).toBe(0);
  const status = JSON.parse((await runMr(['status', ok.id, '--json', '--master', cluster.address])).stdout).jobs[0];
  wordcount = { id: ok.id, mapTotal: status.mapTotal, reduceTotal: status.reduceTotal };
  const bad = await submit(join(FIXTURES, 'throws-in-map.ts'), 'out-failing', '--max-attempts', '1');
  expect(bad.code).toBe(1);
  failing = bad.id;
});

afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

describe('mr master --http: the JSON routes', () => {
  it('prints its address as the second stdout line', () => {
    expect(cluster.http).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(cluster.http).not.toBe('127.0.0.1:0');
  });

  it('/api/jobs lists the jobs exactly as mr status --json does', async () => {
    const res = await get('/api/jobs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { jobs } = await res.json();
    const cli = JSON.parse((await runMr(['status', '--json', '--master', cluster.address])).stdout).jobs;
    expect(jobs).toEqual(cli);
    expect(jobs.find((j: { id: string }) => j.id === wordcount.id)).toMatchObject({ state: 'succeeded', mapDone: wordcount.mapTotal, reduceDone: 2, reduceTotal: 2 });
    expect(jobs.find((j: { id: string }) => j.id === failing)).toMatchObject({ state: 'failed' });
    expect(wordcount.mapTotal).toBe(3);
  });

  it('/api/jobs/<id> has the job, its attempts (as mr logs --json), its workers and the time', async () => {
    const res = await get(`/api/jobs/${encodeURIComponent(wordcount.id)}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.job).toMatchObject({ id: wordcount.id, state: 'succeeded' });
    const cli = JSON.parse((await runMr(['logs', wordcount.id, '--json', '--master', cluster.address])).stdout).attempts;
    expect(body.attempts).toEqual(cli);
    const succeeded = body.attempts.filter((a: { state: string }) => a.state === 'succeeded').map((a: { task: string }) => a.task);
    expect(new Set(succeeded)).toEqual(new Set(['s1.map-0', 's1.map-1', 's1.map-2', 's1.reduce-0', 's1.reduce-1']));
    expect(body.workers).toHaveLength(2);
    for (const worker of body.workers) expect(worker).toMatchObject({ alive: true });
    for (const attempt of body.attempts) expect(attempt.endedMs).toBeLessThanOrEqual(body.nowMs);
  });

  it('answers 404 with a JSON error for a job it does not know', async () => {
    const res = await get('/api/jobs/no-such-job');
    expect(res.status).toBe(404);
    expect((await res.json()).error).toContain('no job no-such-job');
  });

  it("serves an attempt's error and what it printed as text, and 404 for an unknown attempt", async () => {
    const { attempts } = await (await get(`/api/jobs/${failing}`)).json();
    const failed = attempts.find((a: { state: string }) => a.state === 'failed');
    expect(failed).toBeTruthy();
    const res = await get(`/api/jobs/${failing}/attempts/${encodeURIComponent(failed.attemptId)}/log`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^error: .*no Holmes allowed/);
    expect(text).toContain('about to fail on: Sherlock Holmes');
    expect((await get(`/api/jobs/${failing}/attempts/nope/log`)).status).toBe(404);
    expect((await get(`/api/jobs/nope/attempts/${encodeURIComponent(failed.attemptId)}/log`)).status).toBe(404);
  });

  it('serves the page at / and refuses to write: 405 to other methods, 404 to unknown paths', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<html');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await get('/api/jobs', { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    for (const path of ['/nope', '/api/jobs/x/y', '/static/..%2F..%2Fpackage.json', '/static/no-such-file.js']) expect((await get(path)).status).toBe(404);
  });
});

describe('mr master --http: /events', () => {
  it('sends the job list at once, then again when it changes', async () => {
    const abort = new AbortController();
    const res = await get('/events', { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = eventReader(res);
    try {
      const first = await events.next();
      expect(first.event).toBe('jobs');
      expect(first.data.jobs.map((j: { id: string }) => j.id)).toEqual(expect.arrayContaining([wordcount.id, failing]));
      const run = submit('jobs/wordcount.ts', 'out-events');
      let seen: { id: string; state: string } | undefined;
      for (;;) {
        const { event, data } = await events.next();
        expect(event).toBe('jobs');
        seen = data.jobs.find((j: { id: string }) => ![wordcount.id, failing].includes(j.id));
        if (seen?.state === 'succeeded') break;
      }
      expect((await run).id).toBe(seen.id);
    } finally {
      abort.abort();
    }
  });
});

/** The events of an SSE stream, one at a time (comments skipped). */
function eventReader(res: Response): { next(): Promise<{ event: string; data: any }> } {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n').filter((line) => !line.startsWith(':'));
          const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
          const data = lines.filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
          if (event) return { event, data: JSON.parse(data) };
          continue; // retry: or a comment
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
  };
}

describe('mr master --http: /metrics', () => {
  it('is Prometheus text whose figures match the jobs', async () => {
    // The attempts of every job as the master lists them, read before and after the metrics: the same both times
    // (a cancelled attempt of the failed job may still be reporting: then read again).
    type Attempt = { task: string; state: string };
    const attemptsNow = async (): Promise<Attempt[]> => {
      const all: Attempt[] = [];
      const { jobs } = await (await get('/api/jobs')).json();
      for (const { id } of jobs) all.push(...(await (await get(`/api/jobs/${id}`)).json()).attempts);
      return all;
    };
    let attempts: Attempt[] = [];
    let text = '';
    for (let tries = 0; tries < 20; tries++) {
      const before = await attemptsNow();
      const res = await get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      text = await res.text();
      attempts = await attemptsNow();
      if (JSON.stringify(before) === JSON.stringify(attempts)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const metrics = parsePrometheus(text);
    const value = (name: string, labels: Record<string, string> = {}) => metrics.get(sampleKey(name, labels));
    for (const [kind, total] of [['map', wordcount.mapTotal], ['reduce', wordcount.reduceTotal]] as const) {
      expect(value('mr_tasks', { job: wordcount.id, stage: '1', kind, state: 'done' })).toBe(total);
      expect(value('mr_tasks', { job: wordcount.id, stage: '1', kind, state: 'pending' })).toBe(0);
    }
    // Every attempt that succeeded, on every job, is counted, and only those.
    const count = (kind: string, state: string) => attempts.filter((a) => a.task.includes(`.${kind}-`) && a.state === state).length;
    expect(value('mr_attempts_total', { kind: 'map', outcome: 'succeeded' })).toBe(count('map', 'succeeded'));
    expect(value('mr_attempts_total', { kind: 'map', outcome: 'succeeded' })).toBeGreaterThanOrEqual(wordcount.mapTotal);
    expect(value('mr_attempts_total', { kind: 'reduce', outcome: 'succeeded' })).toBe(count('reduce', 'succeeded'));
    expect(value('mr_attempt_failures_total', { kind: 'map' })).toBe(count('map', 'failed'));
    expect(value('mr_attempt_failures_total', { kind: 'map' })).toBeGreaterThanOrEqual(1);
    expect(value('mr_task_duration_seconds_count', { kind: 'map' })).toBe(count('map', 'succeeded'));
    expect(value('mr_jobs', { state: 'succeeded' })).toBeGreaterThanOrEqual(1);
    expect(value('mr_jobs', { state: 'failed' })).toBe(1);
    expect(value('mr_queue_length')).toBe(0);
    expect(value('mr_shuffle_bytes_total')).toBeGreaterThanOrEqual(0);
    const ages = [...metrics.keys()].filter((key) => key.startsWith('mr_worker_heartbeat_age_seconds{'));
    expect(ages).toHaveLength(2);
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});

describe('mr master --http: refusals and the token beyond loopback', () => {
  it('refuses to start without the token (exit 2, one line)', async () => {
    const r = await runMr(['master', '--work-dir', join(dir, 'open-master'), '--http', '0.0.0.0:0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^mr: --http 0\.0\.0\.0 is reachable from other machines.*\n$/);
  });

  it('refuses a port already taken before it says it listens (exit 2, one line)', async () => {
    const r = await runMr(['master', '--work-dir', join(dir, 'clash-master'), '--http', cluster.http!]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^mr: cannot serve --http 127\.0\.0\.1:\d+: EADDRINUSE; .*\n$/);
  });

  it('asks every request for the token: header, or ?token= once on the page and then its cookie', async () => {
    const token = 'status-page-secret-4711';
    const guarded = await startCluster(join(dir, 'guarded'), 0, ['--http', '0.0.0.0:0', '--token', token]);
    try {
      expect(guarded.http).toMatch(/^0\.0\.0\.0:\d+$/);
      const at = `http://127.0.0.1:${guarded.http!.split(':')[1]}`;
      const bodies: string[] = [];
      const fetchText = async (path: string, init: RequestInit = {}) => {
        const res = await fetch(`${at}${path}`, { redirect: 'manual', ...init });
        bodies.push(await res.text(), JSON.stringify([...res.headers]));
        return res;
      };
      for (const path of ['/', '/api/jobs', '/metrics', '/events', '/nope']) expect((await fetchText(path)).status).toBe(401);
      expect((await fetchText('/api/jobs', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetchText('/api/jobs?token=wrong')).status).toBe(401);
      expect((await fetchText('/api/jobs', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetchText('/metrics', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const login = await fetchText(`/?token=${token}&job=j1`);
      expect(login.status).toBe(302);
      expect(login.headers.get('location')).toBe('/?job=j1');
      const cookie = login.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const pair = cookie.split(';')[0];
      expect((await fetchText('/api/jobs', { headers: { cookie: pair } })).status).toBe(200);
      expect((await fetchText('/', { headers: { cookie: pair } })).status).toBe(200);
      expect((await fetchText('/api/jobs', { headers: { cookie: 'mr_status=forged' } })).status).toBe(401);
      for (const text of bodies) expect(text).not.toContain(token);
    } finally {
      await guarded.stop();
    }
  });
});

/** A strict reader of the Prometheus text format (0.0.4): every line a comment, a HELP or TYPE, or a sample of a declared family. */
function parsePrometheus(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sample = new RegExp(`^(${NAME})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\})? (\\S+)(?: -?\\d+)?$`);
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type) {
      expect(types.has(type[1]), `TYPE of ${type[1]} twice`).toBe(false);
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith('#')) {
      expect(line, 'a comment line').toMatch(new RegExp(`^# (HELP ${NAME} .*|(?!TYPE |HELP ).*)$`));
      continue;
    }
    const m = sample.exec(line);
    expect(m, `not a sample line: ${line}`).toBeTruthy();
    const [, name, labelText = '', valueText] = m!;
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((n) => types.has(n));
    expect(family, `sample of an undeclared family: ${line}`).toBeTruthy();
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
    expect(valueText === 'NaN' || !Number.isNaN(value), `bad value: ${line}`).toBe(true);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = raw.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    const key = sampleKey(name, labels);
    expect(samples.has(key), `sample twice: ${line}`).toBe(false);
    samples.set(key, value);
  }
  return samples;
}

function sampleKey(name: string, labels: Record<string, string>): string {
  const pairs = Object.keys(labels).sort().map((key) => `${key}=${JSON.stringify(labels[key])}`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}
