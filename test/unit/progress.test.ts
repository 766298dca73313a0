// Progress that tells the truth: the master's monotone fractions (src/core/progress.ts), driven by
// the real scheduler through lost map outputs, and `mr run`'s bar and plain lines (src/cli/progress*.ts).
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler.ts';
import { stageProgress, type AttemptFigures, type StageProgress } from '../../src/core/progress.ts';
import type { Split } from '../../src/core/splits.ts';
import {
  RateWindow, barBlock, barRow, etaSeconds, fit, formatEta, formatMB, formatPercent, formatRate, plainLine, type PhaseView,
} from '../../src/cli/progress-format.ts';
import { Progress, ProgressModel } from '../../src/cli/progress.ts';
import type { JobStatus, StageStatus } from '../../src/wires/messages.ts';

describe('stageProgress: monotone per phase, through lost map outputs', () => {
  const SPLIT = 1000;
  function setup() {
    const s = new Scheduler({ leaseMs: 60_000, workerTimeoutMs: 60_000 });
    const splits: Split[] = Array.from({ length: 4 }, (_, i) => ({ path: `in-${i}`, start: i * SPLIT, end: (i + 1) * SPLIT, wholeFile: false }));
    s.addJob('j', 1, 4, 0, false);
    s.startStage('j', splits.map((split) => [split]), 2, 0);
    s.registerWorker('w1', 0);
    s.registerWorker('w2', 0);
    const stage = () => s.jobs.get('j')!.stages[0];
    const figures = new Map<string, AttemptFigures>();
    let shown: StageProgress | undefined;
    const history: StageProgress[] = [];
    /** What the master shows now (with the previous), and what the same records give without it. */
    const step = () => {
      const raw = stageProgress(stage(), (id) => figures.get(id));
      shown = stageProgress(stage(), (id) => figures.get(id), shown);
      history.push(shown);
      return { raw, shown };
    };
    const mapOn = (worker: string) => {
      const a = s.assign(worker, 0).assignments[0];
      expect(a.kind).toBe('map');
      return a;
    };
    const commitMap = (attemptId: string, index: number) =>
      expect(s.succeed(attemptId, `out-${index}`, { 'map.inputBytes': SPLIT }, 0, [600, 400], [6, 4]).accepted).toBe(true);
    return { s, stage, figures, step, history, mapOn, commitMap };
  }

  it('counts committed tasks, partial credit from bytes read, and never drops when outputs are lost', () => {
    const { s, figures, step, history, mapOn, commitMap } = setup();
    expect(step().shown).toMatchObject({ map: 0, reduce: 0, mapRerunning: 0, mapBytesRead: 0, mapBytesTotal: 4000 });

    const m0 = mapOn('w1');
    const m1 = mapOn('w2');
    figures.set(m0.attemptId, { inputBytesRead: 500 });    // half its split read
    expect(step().shown.map).toBeCloseTo(0.125);
    expect(history[history.length - 1].mapBytesRead).toBe(500);
    figures.set(m0.attemptId, { inputBytesRead: 1100 });   // past its split (its last line): at most 0.99 of a task
    expect(step().shown).toMatchObject({ map: 0.99 / 4, mapBytesRead: 1000 });

    commitMap(m0.attemptId, 0);
    commitMap(m1.attemptId, 1);
    const m2 = mapOn('w1');
    const m3 = mapOn('w2');
    commitMap(m2.attemptId, 2);
    figures.set(m3.attemptId, { inputBytesRead: 250 });
    expect(step().shown).toMatchObject({ map: 3.25 / 4, mapBytesRead: 3250 });
    commitMap(m3.attemptId, 3);
    expect(step().shown).toMatchObject({ map: 1, reduce: 0, mapBytesRead: 4000, reduceBytesTotal: 4000 });

    const r0 = s.assign('w2', 0).assignments[0];
    expect(r0.kind).toBe('reduce');
    figures.set(r0.attemptId, { outputsFetched: 2 });       // half the map outputs: a sixth of the task
    expect(step().shown.reduce).toBeCloseTo(1 / 3 * 0.5 / 2);

    // w2 dies: the maps it ran (1 and 3) must run again, and its reduce attempt is gone.
    s.loseWorker('w2', 'gone', 0);
    const { raw, shown } = step();
    expect(raw.map).toBe(0.5);                               // what the records alone say ...
    expect(raw.reduce).toBe(0);
    expect(shown).toMatchObject({ map: 1, mapRerunning: 2, mapBytesRead: 4000 }); // ... and what is shown
    expect(shown.reduce).toBeCloseTo(1 / 12);

    const again1 = mapOn('w1');
    figures.set(again1.attemptId, { inputBytesRead: 900 });
    expect(step().shown).toMatchObject({ map: 1, mapRerunning: 2 });
    commitMap(again1.attemptId, 1);
    expect(step().shown.mapRerunning).toBe(1);
    commitMap(mapOn('w1').attemptId, 3);
    expect(step().shown).toMatchObject({ map: 1, mapRerunning: 0 });

    for (let r = 0; r < 2; r++) {
      const a = s.assign('w1', 0).assignments[0];
      expect(a.kind).toBe('reduce');
      s.succeed(a.attemptId, '', {}, 0);
      expect(step().shown.reduce).toBe((r + 1) / 2);
    }
    expect(history[history.length - 1]).toMatchObject({ map: 1, reduce: 1, reduceBytesRead: 4000, reduceBytesTotal: 4000 });
    for (let i = 1; i < history.length; i++) {
      expect(history[i].map).toBeGreaterThanOrEqual(history[i - 1].map);
      expect(history[i].reduce).toBeGreaterThanOrEqual(history[i - 1].reduce);
      expect(history[i].mapBytesRead).toBeGreaterThanOrEqual(history[i - 1].mapBytesRead);
    }
  });

  it('is 1 only when every task of the phase has committed', () => {
    const { figures, step, mapOn, commitMap } = setup();
    const attempts = [mapOn('w1'), mapOn('w2'), mapOn('w1'), mapOn('w2')];
    for (const a of attempts.slice(0, 3)) commitMap(a.attemptId, a.index);
    figures.set(attempts[3].attemptId, { inputBytesRead: SPLIT });
    const { shown } = step();
    expect(shown.map).toBeLessThan(1);
    expect(formatPercent(shown.map)).toBe('99%');
  });
});

describe('progress text: pure formatting', () => {
  const view: PhaseView = {
    stage: 1, stageCount: 1, phase: 'map', done: 12, total: 16, fraction: 0.75,
    bytes: 48_200_000, totalBytes: 64_000_000, rateBytesPerS: 10_100_000, etaS: 1.6, rerunning: 0,
  };

  it('megabytes, rates, percents and ETAs', () => {
    expect(formatMB(48_200_000)).toBe('48.2 MB');
    expect(formatMB(0)).toBe('0.0 MB');
    expect(formatRate(10_100_000)).toBe('10.1 MB/s');
    expect(formatRate(undefined)).toBe('— MB/s');
    expect(formatPercent(0.999)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatEta(undefined)).toBe('—');
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('—');
    expect(formatEta(0)).toBe('0 s');
    expect(formatEta(0.2)).toBe('1 s');
    expect(formatEta(59)).toBe('59 s');
    expect(formatEta(61)).toBe('1 min 01 s');
    expect(formatEta(3700)).toBe('1 h 01 min');
    expect(etaSeconds(30_000_000, 10_000_000)).toBe(3);
    expect(etaSeconds(30_000_000, undefined)).toBeUndefined();
    expect(etaSeconds(30_000_000, 0)).toBeUndefined();
    expect(etaSeconds(0, undefined)).toBe(0);
  });

  it('a rate over the sliding window, unknown until the samples span enough time', () => {
    const w = new RateWindow(5000, 500);
    w.add(0, 0);
    expect(w.rate()).toBeUndefined();
    w.add(200, 1_000_000);
    expect(w.rate()).toBeUndefined();
    w.add(1000, 10_000_000);
    expect(w.rate()).toBe(10_000_000);
    w.add(2000, 20_000_000);
    expect(w.rate()).toBe(10_000_000);
    w.add(6000, 20_000_000);                        // stalled since 2000: the window (1000..6000) still holds 10 MB of climb
    expect(w.rate()).toBe(2_000_000);
    w.add(7000, 20_000_000);                        // the window (2000..7000) saw nothing move
    expect(w.rate()).toBe(0);
    w.add(6500, 99_000_000);                        // time going backwards is ignored
    expect(w.rate()).toBe(0);
  });

  it('the bar row: label, bar, percent, tasks, MB, rate, ETA', () => {
    expect(barRow(view, 100)).toBe(`map [${'#'.repeat(22)}${'.'.repeat(8)}]  75%  12/16 tasks  48.2/64.0 MB  10.1 MB/s  ETA 2 s`);
    expect(barRow({ ...view, rateBytesPerS: undefined, etaS: undefined, rerunning: 2 }, 120))
      .toBe(`map [${'#'.repeat(22)}${'.'.repeat(8)}]  75%  12/16 tasks  48.2/64.0 MB  — MB/s  ETA —  re-running 2`);
    expect(barRow({ ...view, stageCount: 3, stage: 2, phase: 'reduce', fraction: 1, done: 16 }, 120, 14))
      .toMatch(/^stage 2\/3 reduce \[#{30}\] 100%  16\/16 tasks/);
  });

  it('fits the width: the bar shrinks, then goes, then the row is cut', () => {
    expect(barRow(view, 60)).toBe('map  75%  12/16 tasks  48.2/64.0 MB  10.1 MB/s  ETA 2 s');
    expect(barRow(view, 40)).toBe('map  75%  12/16 tasks  48.2/64.0 MB  10…');
    expect(barRow(view, 70)).toMatch(/^map \[#{9}\.{3}\]  75%/);
    for (let width = 1; width <= 200; width++) expect(barRow(view, width).length).toBeLessThanOrEqual(width);
    expect(fit('abc', 0)).toBe('');
    const block = barBlock([view, { ...view, phase: 'reduce', done: 0, fraction: 0 }], 50);
    expect(block).toHaveLength(2);
    for (const row of block) expect(row.length).toBeLessThanOrEqual(49); // never the last column: no wrap
  });

  it('the plain line', () => {
    expect(plainLine(view)).toBe('mr: stage 1/1 map 12/16 tasks (75%), 48.2 MB, 10.1 MB/s, ETA 2 s');
    expect(plainLine({ ...view, rerunning: 1, etaS: undefined, rateBytesPerS: undefined }))
      .toBe('mr: stage 1/1 map 12/16 tasks (75%), 48.2 MB, — MB/s, ETA —, re-running 1');
  });
});

function stageStatus(over: Partial<StageStatus>): StageStatus {
  return {
    mapDone: 0, mapTotal: 4, reduceDone: 0, reduceTotal: 2, elapsedMs: 0, counters: {}, mapPhaseMs: 0, reducePhaseMs: 0,
    failedAttempts: 0, mapAttempts: 0, reduceAttempts: 0, backupAttempts: 0, mapRunning: 0, reduceRunning: 0, reduces: [], stragglers: [],
    progress: { map: 0, reduce: 0 }, mapRerunning: 0, mapBytesRead: 0, mapBytesTotal: 4_000_000, reduceBytesRead: 0, reduceBytesTotal: 0,
    ...over,
  };
}

function jobStatus(stage: Partial<StageStatus>, over: Partial<JobStatus> = {}): JobStatus {
  return {
    jobId: 'j', state: 'running', stage: 1, phase: 'map', stages: [stageStatus(stage)], error: '', files: [], outputDir: '/out',
    processes: [], elapsedMs: 0, stageCount: 1, workers: [], ...over,
  };
}

describe('ProgressModel: what is shown never goes backwards', () => {
  it('keeps the most done tasks, the largest fraction and bytes; shows re-running maps', () => {
    const model = new ProgressModel();
    const map = (status: JobStatus, t: number) => model.views(status, t)[0];
    expect(map(jobStatus({ mapDone: 3, progress: { map: 0.8, reduce: 0 }, mapBytesRead: 3_000_000 }), 0))
      .toMatchObject({ done: 3, fraction: 0.8, bytes: 3_000_000, rerunning: 0, etaS: undefined });
    // An older or restarted master says less: the display holds.
    const lost = map(jobStatus({ mapDone: 1, progress: { map: 0.5, reduce: 0 }, mapBytesRead: 1_000_000, mapRerunning: 2 }), 1000);
    expect(lost).toMatchObject({ done: 3, fraction: 0.8, bytes: 3_000_000, rerunning: 2 });
    expect(plainLine(lost)).toMatch(/map 3\/4 tasks \(80%\).*re-running 2$/);
    const moving = map(jobStatus({ mapDone: 3, progress: { map: 0.9, reduce: 0 }, mapBytesRead: 3_500_000 }), 2000);
    expect(moving.rateBytesPerS).toBe(250_000);           // 0.5 MB over the 2 s since the first sample
    expect(moving.etaS).toBe(2);                          // 0.5 MB left at 0.25 MB/s
  });

  it('falls back on done/total and the counters when the master sends no progress', () => {
    // An older master's status, as decoded: no progress message, the byte figures at their default.
    const status = jobStatus({ mapDone: 2, counters: { 'map.inputBytes': 5 }, progress: null, mapBytesRead: 0 });
    expect(new ProgressModel().views(status, 0)[0]).toMatchObject({ done: 2, fraction: 0.5, bytes: 5 });
  });
});

describe('Progress: lines and bars on stderr', () => {
  function capture(tty: boolean, quiet = false, columns = 100) {
    const out: string[] = [];
    return { out, progress: new Progress({ tty, quiet, write: (t) => out.push(t), columns: () => columns }) };
  }

  it('plain: at most one line every 2 s, one per phase change, one at the end; done counts never decrease', () => {
    const { out, progress } = capture(false);
    progress.update(jobStatus({ mapDone: 0 }), 0);
    progress.update(jobStatus({ mapDone: 1, progress: { map: 0.25, reduce: 0 } }), 500);     // too soon
    progress.update(jobStatus({ mapDone: 2, progress: { map: 0.5, reduce: 0 } }), 2100);
    progress.update(jobStatus({ mapDone: 4, progress: { map: 1, reduce: 0 } }, { phase: 'reduce' }), 2300); // phase change
    progress.update(jobStatus({ mapDone: 2, progress: { map: 1, reduce: 0.1 }, mapRerunning: 2 }, { phase: 'map' }), 2400); // lost outputs
    progress.update(jobStatus({ mapDone: 4, reduceDone: 2, progress: { map: 1, reduce: 1 } }, { phase: 'done', state: 'succeeded' }), 2500);
    progress.end();
    const lines = out.join('').split('\n').filter(Boolean);
    expect(lines).toEqual([
      'mr: stage 1/1 map 0/4 tasks (0%), 0.0 MB, — MB/s, ETA —',
      'mr: stage 1/1 map 2/4 tasks (50%), 0.0 MB, 0.0 MB/s, ETA —',
      'mr: stage 1/1 map 4/4 tasks (100%), 0.0 MB, 0.0 MB/s, ETA 0 s',
      'mr: stage 1/1 reduce 0/2 tasks (0%), 0.0 MB, 0.0 MB/s, ETA —',
      'mr: stage 1/1 reduce 0/2 tasks (10%), 0.0 MB, 0.0 MB/s, ETA —',
      'mr: stage 1/1 map 4/4 tasks (100%), 0.0 MB, 0.0 MB/s, ETA —, re-running 2',
      'mr: stage 1/1 map 4/4 tasks (100%), 0.0 MB, 0.0 MB/s, ETA 0 s',
      'mr: stage 1/1 reduce 2/2 tasks (100%), 0.0 MB, 0.0 MB/s, ETA 0 s',
    ]);
  });

  it('plain: a phase passed between two polls (a chain\'s short stage) still gets its line, in order', () => {
    const { out, progress } = capture(false);
    const chain = (stages: Partial<StageStatus>[], over: Partial<JobStatus>): JobStatus =>
      ({ ...jobStatus({}, { stageCount: 2, ...over }), stages: stages.map(stageStatus) });
    const done = { mapDone: 4, reduceDone: 2, progress: { map: 1, reduce: 1 } };
    progress.update(chain([{ mapDone: 4, reduceDone: 1, progress: { map: 1, reduce: 0.5 } }], { phase: 'reduce' }), 0);
    progress.update(chain([done, { ...done, mapTotal: 4 }], { stage: 2, phase: 'done', state: 'succeeded' }), 300);
    expect(out.join('').split('\n').filter(Boolean).map((line) => line.replace(/, [\d.]+ MB.*/, ''))).toEqual([
      'mr: stage 1/2 map 4/4 tasks (100%)',                 // the first poll was already past it
      'mr: stage 1/2 reduce 1/2 tasks (50%)',
      'mr: stage 1/2 reduce 2/2 tasks (100%)',
      'mr: stage 2/2 map 4/4 tasks (100%)',
      'mr: stage 2/2 reduce 2/2 tasks (100%)',
    ]);
  });

  it('tty: the block is redrawn in place, every row erased first, at most every 100 ms', () => {
    const { out, progress } = capture(true);
    progress.update(jobStatus({ mapDone: 1 }), 0);
    expect(out).toHaveLength(1);
    expect(out[0].startsWith('\r\x1b[2Kmap    [')).toBe(true);
    expect(out[0]).toContain('\n\x1b[2Kreduce [');
    expect(out[0]).not.toContain('\x1b[1A');
    progress.update(jobStatus({ mapDone: 2 }), 50);                      // too soon
    expect(out).toHaveLength(1);
    progress.update(jobStatus({ mapDone: 3 }), 150);
    expect(out[1].startsWith('\x1b[1A\r\x1b[2Kmap    [')).toBe(true);  // up to the first row, then over it
    expect(out[1]).toContain('3/4 tasks');
    progress.message('mr: the master is back; following the job again');
    expect(out.slice(2)).toEqual(['\n', 'mr: the master is back; following the job again\n']);
    progress.update(jobStatus({ mapDone: 4, progress: { map: 1, reduce: 0 } }, { phase: 'reduce' }), 200);
    expect(out[4].startsWith('\r\x1b[2Kmap ')).toBe(true);             // a fresh block below the message
    expect(out[4]).toContain(' 100%  4/4 tasks');
    progress.end();
    progress.end();
    expect(out.slice(5)).toEqual(['\n']);
    for (const frame of out) for (const row of frame.split('\n')) expect(row.replace(/\x1b\[\d*[A-Z]|\r/g, '').length).toBeLessThan(100);
  });

  it('--quiet: nothing', () => {
    for (const tty of [true, false]) {
      const { out, progress } = capture(tty, true);
      progress.update(jobStatus({ mapDone: 1 }), 0);
      progress.update(jobStatus({}, { state: 'succeeded', phase: 'done' }), 5000);
      progress.end();
      expect(out).toEqual([]);
    }
  });
});
