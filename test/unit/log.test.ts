// The daemons' log: the JSON line every tool reads, the readable line on a terminal, MR_LOG.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, formatLogLine, parseLogLevel } from '../../src/log.ts';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mr-log-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function linesOf(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the JSON log line', () => {
  it('has time (ISO), level (a label), component, pid, msg and the fields, one object a line, written at once', async () => {
    const file = join(dir, 'shape', 'master.log'); // its directory is created
    const log = createLogger({ component: 'master', file });
    log.info('worker registered', { workerId: 'w-1', address: '127.0.0.1:4000', slots: 2 });
    log.warn('attempt failed', { attemptId: 'a-7', error: 'boom\nsecond line' });
    const [first, second] = await linesOf(file); // read right away: the writes are synchronous
    expect(first).toEqual({ time: first.time, level: 'info', component: 'master', pid: process.pid, msg: 'worker registered',
      workerId: 'w-1', address: '127.0.0.1:4000', slots: 2 });
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(first.time as string) - Date.now())).toBeLessThan(60_000);
    expect(second).toMatchObject({ level: 'warn', msg: 'attempt failed', error: 'boom\nsecond line' });
    expect((await readFile(file, 'utf8')).match(/\n/g)).toHaveLength(2); // a newline in a field stays inside its line
  });

  it('appends: loggers of one file (and a file written before) share it', async () => {
    const file = join(dir, 'shared.log');
    createLogger({ component: 'master', file }).info('one');
    createLogger({ component: 'dispatcher', file }).info('two');
    expect((await linesOf(file)).map((l) => [l.component, l.msg])).toEqual([['master', 'one'], ['dispatcher', 'two']]);
  });

  it('drops lines below its level; debug shows everything', async () => {
    const file = join(dir, 'levels.log');
    const warn = createLogger({ component: 'worker', file, level: 'warn' });
    warn.debug('d'); warn.info('i'); warn.warn('w'); warn.error('e');
    const debug = createLogger({ component: 'worker', file, level: 'debug' });
    debug.debug('d2');
    expect((await linesOf(file)).map((l) => `${l.level}:${l.msg}`)).toEqual(['warn:w', 'error:e', 'debug:d2']);
  });

  it('never writes a token or an authorization field', async () => {
    const file = join(dir, 'redact.log');
    createLogger({ component: 'master', file }).warn('refused', { token: 'Secret-1', call: { authorization: 'Bearer Secret-2' }, who: 'w-1' });
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('Secret-');
    expect(JSON.parse(text)).toMatchObject({ who: 'w-1', token: '[redacted]', call: { authorization: '[redacted]' } });
  });
});

describe('MR_LOG', () => {
  it('takes the four levels, any case; unset or empty is no choice; anything else is refused', () => {
    expect(['debug', 'info', 'warn', 'error', 'WARN', ' debug '].map(parseLogLevel)).toEqual(['debug', 'info', 'warn', 'error', 'warn', 'debug']);
    expect(parseLogLevel(undefined)).toBeUndefined();
    expect(parseLogLevel('')).toBeUndefined();
    expect(() => parseLogLevel('verbose')).toThrow(/MR_LOG must be one of debug, info, warn, error, got "verbose"/);
  });
});

describe('formatLogLine (stderr on a terminal)', () => {
  const base = { time: '2026-12-03T12:03:04.123Z', pid: 42, component: 'worker' };

  it('time of day, level padded to five, component, message, then the fields as name=value', () => {
    expect(formatLogLine({ ...base, level: 'info', msg: 'registered', workerId: 'w-1a2b', address: '127.0.0.1:4000' }))
      .toBe('12:03:04.123 INFO  worker registered workerId=w-1a2b address=127.0.0.1:4000');
    expect(formatLogLine({ ...base, level: 'error', msg: 'giving up' })).toBe('12:03:04.123 ERROR worker giving up');
    expect(formatLogLine({ ...base, level: 'warn', msg: 'x' })).toBe('12:03:04.123 WARN  worker x');
  });

  it('quotes strings with spaces, quotes, = or nothing in them; numbers, booleans, arrays and objects as JSON', () => {
    expect(formatLogLine({ ...base, level: 'warn', msg: 'attempt failed', error: 'map threw: "x" = y', empty: '', n: 3, ok: false,
      mapTasks: [1, 2], where: { node: 3 }, none: null }))
      .toBe('12:03:04.123 WARN  worker attempt failed error="map threw: \\"x\\" = y" empty="" n=3 ok=false mapTasks=[1,2] where={"node":3} none=null');
  });

  it('keeps a line one line when a field holds a newline', () => {
    const line = formatLogLine({ ...base, level: 'warn', msg: 'attempt failed', error: 'a\nb' });
    expect(line).not.toContain('\n');
    expect(line).toContain('error="a\\nb"');
  });
});
