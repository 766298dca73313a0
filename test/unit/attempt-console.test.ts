// What job code prints during an attempt is kept with it: console.*, process.stdout.write and
// process.stderr.write, each attempt its own, the last 64 KiB.
import { describe, expect, it } from 'vitest';
import { withAttemptConsole } from '../../src/worker/attempt-console.ts';
import { OutputTail, TRUNCATED_MARK } from '../../src/worker/output-tail.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

// Below the capture (installed at the first attempt, after this): what it lets through reaches here.
const passedThrough: string[] = [];
const realWrite = process.stderr.write;
process.stderr.write = function write(this: typeof process.stderr, chunk: unknown, ...rest: unknown[]) {
  if (String(chunk).startsWith('marker: ')) {
    passedThrough.push(String(chunk));
    return true;
  }
  return (realWrite as (...args: unknown[]) => boolean).apply(this, [chunk, ...rest]);
} as typeof process.stderr.write;

describe('OutputTail', () => {
  it('keeps everything under its limit, without the final newline', () => {
    const tail = new OutputTail(100);
    tail.append('one\n');
    tail.append('');
    tail.append('two\n');
    expect(tail.text()).toBe('one\ntwo');
  });

  it('keeps the last characters after a truncation mark once there was more', () => {
    const tail = new OutputTail(10);
    for (let i = 0; i < 100; i++) tail.append(`${i % 10}`);
    expect(tail.text()).toBe(`${TRUNCATED_MARK}0123456789`);
    const big = new OutputTail(4);
    big.append('abcdefghij'); // one chunk over the limit on its own
    expect(big.text()).toBe(`${TRUNCATED_MARK}ghij`);
  });

  it('holds at most about twice its limit whatever is written', () => {
    const tail = new OutputTail(1000);
    for (let i = 0; i < 10_000; i++) tail.append('x'.repeat(37));
    expect((tail as unknown as { held: number }).held).toBeLessThanOrEqual(2000);
    expect(tail.text()).toBe(TRUNCATED_MARK + 'x'.repeat(1000));
  });
});

describe('withAttemptConsole', () => {
  it('captures console.*, process.stderr.write and process.stdout.write (strings and bytes), in order', async () => {
    const { value, log } = await withAttemptConsole(async () => {
      console.log('log', { a: 1 });
      process.stderr.write('raw stderr\n');
      await tick();
      process.stdout.write(Buffer.from('raw stdout bytes\n'));
      process.stdout.write('68656c6c6f0a', 'hex');
      console.error('error %d', 7);
      return 42;
    });
    expect(value).toBe(42);
    expect(log).toBe("log { a: 1 }\nraw stderr\nraw stdout bytes\nhello\nerror 7");
  });

  it('calls a write callback, and keeps the log of an attempt that throws', async () => {
    const { error, log } = await withAttemptConsole(async () => {
      await new Promise<void>((resolve) => process.stderr.write('before the throw\n', () => resolve()));
      throw new Error('map threw');
    });
    expect((error as Error).message).toBe('map threw');
    expect(log).toBe('before the throw');
  });

  it('gives each of several attempts at once its own output', async () => {
    const attempt = (name: string) => withAttemptConsole(async () => {
      for (let i = 0; i < 5; i++) {
        process.stderr.write(`${name} ${i}\n`);
        console.log(`${name} console ${i}`);
        await tick();
      }
    });
    const [a, b] = await Promise.all([attempt('A'), attempt('B')]);
    expect(a.log.split('\n')).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`A ${i}`, `A console ${i}`]));
    expect(b.log.split('\n')).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`B ${i}`, `B console ${i}`]));
  });

  it('keeps only the tail of a flood, behind the truncation mark', async () => {
    const { log } = await withAttemptConsole(async () => {
      for (let i = 0; i < 3000; i++) process.stderr.write(`line ${String(i).padStart(4, '0')} ${'y'.repeat(40)}\n`);
    });
    expect(log.startsWith(TRUNCATED_MARK)).toBe(true);
    expect(log.length).toBeLessThanOrEqual(64 * 1024 + TRUNCATED_MARK.length);
    expect(log.length).toBeGreaterThan(60 * 1024);
    expect(log.endsWith(`line 2999 ${'y'.repeat(40)}`)).toBe(true);
  });

  it('lets writes outside an attempt, or after it ended, through to the stream', async () => {
    passedThrough.length = 0;
    let later: (() => void) | undefined;
    const { log } = await withAttemptConsole(async () => {
      process.stderr.write('marker: inside\n');
      later = () => process.stderr.write('marker: after the attempt\n'); // made in the attempt's context, run once it ended
    });
    later!();
    process.stderr.write('marker: outside\n');
    expect(log).toBe('marker: inside');
    expect(passedThrough).toEqual(['marker: after the attempt\n', 'marker: outside\n']);
  });
});
