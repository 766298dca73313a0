// `mr run`'s progress as users see it: the bars on a terminal (under util-linux `script`, which
// gives the child a pseudo-terminal) and the plain lines on a pipe, whose counts never go back,
// even when a worker dies with map outputs the reducers still need.
import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, MR, ROOT, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

const WORDCOUNT = join(ROOT, 'jobs', 'wordcount.ts');

let dir: string;
beforeAll(async () => {
  dir = await tempDir('mr-progress-');
});
afterAll(async () => {
  await removeDir(dir);
});

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Runs a shell command under `script`: the child's stdout and stderr are a terminal, `script` passes it all on. */
function underTerminal(command: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '120' } });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

const PLAIN = /^mr: stage (\d+)\/(\d+) (map|reduce) (\d+)\/(\d+) tasks \((\d+)%\), (\d+\.\d) MB, (—|\d+\.\d) MB\/s, ETA (—|\d+ s|\d+ min \d\d s|\d+ h \d\d min)(, re-running (\d+))?$/;

interface PlainLine { stage: number; phase: string; done: number; total: number; percent: number; mb: number; rerunning: number }

/** Every progress line of a piped run, checked against the format. */
function plainLines(stderr: string): PlainLine[] {
  const lines = stderr.split('\n').filter((line) => /^mr: stage \d+\/\d+ (map|reduce) /.test(line));
  return lines.map((line) => {
    const m = PLAIN.exec(line);
    expect(m, line).not.toBeNull();
    return { stage: +m![1], phase: m![3], done: +m![4], total: +m![5], percent: +m![6], mb: +m![7], rerunning: m![11] ? +m![11] : 0 };
  });
}

/** Per stage and phase, done counts, percents and megabytes never decrease. */
function expectNeverBackwards(lines: PlainLine[]): void {
  const last = new Map<string, PlainLine>();
  for (const line of lines) {
    const before = last.get(`${line.stage}/${line.phase}`);
    if (before) {
      expect(line.done, JSON.stringify([before, line])).toBeGreaterThanOrEqual(before.done);
      expect(line.percent, JSON.stringify([before, line])).toBeGreaterThanOrEqual(before.percent);
      expect(line.mb, JSON.stringify([before, line])).toBeGreaterThanOrEqual(before.mb);
    }
    last.set(`${line.stage}/${line.phase}`, line);
  }
}

describe('progress on a terminal', () => {
  it.skipIf(!hasScript())('one bar per phase, with tasks, MB, MB/s and ETA, redrawn in place, ending at 100%', async () => {
    const out = join(dir, 'tty');
    // A terminal 120 columns wide, whatever `script` was started from.
    const command = 'stty cols 120 2>/dev/null; ' + [process.execPath, MR, 'run', WORDCOUNT, '--input', BOOKS, '--output', out, '--workers', '2', '--reducers', '3']
      .map(quote).join(' ');
    const { code, output } = await underTerminal(command);
    expect(code, output).toBe(0);
    expect(output).toContain('\x1b[2K');                                   // rows erased before they are drawn
    expect(output).toMatch(/\x1b\[1A\r\x1b\[2Kmap /);                     // the block redrawn from its first row
    // eslint-disable-next-line no-control-regex
    const rows = output.replace(/\x1b\[\d*[A-Z]/g, '').split(/[\r\n]+/);
    const bar = /^(map|reduce) +\[[#.]{10,30}\] +(?<percent>\d+)%  (?<done>\d+)\/(?<total>\d+) tasks  \d+\.\d(\/\d+\.\d)? MB  (—|\d+\.\d) MB\/s  ETA (?<eta>—|\d+ s|\d+ min \d\d s)/;
    const drawn = rows.filter((row) => bar.test(row));
    expect(drawn.length).toBeGreaterThanOrEqual(2);
    for (const phase of ['map', 'reduce']) {
      const final = drawn.filter((row) => row.startsWith(phase)).at(-1)!;
      const { percent, done, total, eta } = bar.exec(final)!.groups!;
      expect(percent, final).toBe('100');
      expect(done, final).toBe(total);                                     // every task done
      expect(eta, final).toBe('0 s');
    }
    expect(drawn.filter((row) => row.startsWith('reduce')).at(-1)).toMatch(/ 3\/3 tasks /);
    // The summary starts on a line of its own, after the bar.
    expect(output).toMatch(/\n(\x1b\[2K)?mr: counters: /);
  });
});

describe('progress on a pipe', () => {
  it('plain lines in the documented format, done counts never decreasing, the last one complete', async () => {
    const out = join(dir, 'pipe');
    const r = await runMr(['run', WORDCOUNT, '--input', BOOKS, '--output', out, '--workers', '2', '--reducers', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('\x1b');
    const lines = plainLines(r.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expectNeverBackwards(lines);
    expect(lines.some((l) => l.phase === 'map' && l.done === l.total && l.percent === 100)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ phase: 'reduce', done: 3, total: 3, percent: 100 });
    const mapMb = lines.filter((l) => l.phase === 'map').at(-1)!.mb;
    expect(mapMb).toBeGreaterThan(1);                                      // the books are some MB of input
  });

  it('--quiet: no progress lines', async () => {
    const r = await runMr(['run', WORDCOUNT, '--input', BOOKS, '--output', join(dir, 'quiet'), '--workers', '2', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('a worker killed in the reduce phase: its maps run again, and the printed progress never goes back', async () => {
    const once = join(dir, 'fired');
    const out = join(dir, 'killed');
    const r = await runMr(['run', WORDCOUNT, '--input', BOOKS, '--output', out, '--workers', '2', '--reducers', '3', '--json'], {
      env: { MR_FAILPOINTS: 'worker.reduce.after-first-key=kill', MR_FAILPOINT_ONCE: once },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(once, 'utf8'), 'the fail point fired').toMatch(/^worker\.reduce\.after-first-key /);
    const stage = JSON.parse(r.stdout).stages[0];
    expect(stage.reduceAttempts).toBeGreaterThan(stage.reduceTasks);   // the killed reduce ran again (and the maps whose outputs died with it)
    const lines = plainLines(r.stderr);
    expectNeverBackwards(lines);
    expect(lines.at(-1)).toMatchObject({ phase: 'reduce', done: 3, total: 3, percent: 100 });
  });
});
