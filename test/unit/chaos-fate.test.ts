// The chaos layer's pure decisions: seeded streams that repeat, fates at the rates the spec asks,
// partition windows, and the token bucket that throttles bytes.
import { describe, expect, it } from 'vitest';
import { callFate, cutOffWindow, messageFate } from '../../src/wires/chaos/chaos-fate.ts';
import { RandomStreams, mixSeed, mulberry32 } from '../../src/wires/chaos/chaos-random.ts';
import { parseChaosSpec } from '../../src/wires/chaos/chaos-spec.ts';
import { burstBytesOf, fullBucket, takeBytes } from '../../src/wires/chaos/token-bucket.ts';

describe('seeded random streams', () => {
  it('repeat for the same seed, node and kind, and differ otherwise', () => {
    const draw = (seed: number, node: string, kind: string) => {
      const random = new RandomStreams(seed, node).stream(kind);
      return Array.from({ length: 5 }, () => random());
    };
    expect(draw(1, 'worker-1', 'heartbeat')).toEqual(draw(1, 'worker-1', 'heartbeat'));
    expect(draw(1, 'worker-1', 'heartbeat')).not.toEqual(draw(2, 'worker-1', 'heartbeat'));
    expect(draw(1, 'worker-1', 'heartbeat')).not.toEqual(draw(1, 'worker-2', 'heartbeat'));
    expect(draw(1, 'worker-1', 'heartbeat')).not.toEqual(draw(1, 'worker-1', 'reportAttempt'));
  });

  it('keep a kind\'s sequence whatever other kinds draw meanwhile', () => {
    const alone = new RandomStreams(7, 'master').stream('a');
    const mixed = new RandomStreams(7, 'master');
    const expected = [alone(), alone(), alone()];
    const got = [mixed.stream('a')(), (mixed.stream('b')(), mixed.stream('a')()), mixed.stream('a')()];
    expect(got).toEqual(expected);
  });

  it('are pinned: a change of generator or seeding must break this', () => {
    expect(mixSeed(1, 'worker-0', 'heartbeat')).toBe(mixSeed(1, 'worker-0', 'heartbeat'));
    expect(mixSeed(1, 'ab', 'c')).not.toBe(mixSeed(1, 'a', 'bc'));
    const random = mulberry32(1);
    expect([random(), random()].map((x) => x.toFixed(6))).toEqual(['0.627074', '0.002736']);
  });
});

describe('callFate', () => {
  it('loses, doubles and holds back requests, and loses replies, at the rates asked', () => {
    const spec = parseChaosSpec('drop=0.1,dup=0.05,reorder=0.2');
    const random = mulberry32(42);
    const n = 20_000;
    const tally = { lostRequests: 0, lostReplies: 0, duplicated: 0, reordered: 0 };
    for (let i = 0; i < n; i++) {
      const fate = callFate(spec, random);
      tally.lostRequests += Number(fate.request.lost);
      tally.lostReplies += Number(fate.reply.lost);
      tally.duplicated += Number(fate.request.duplicated);
      tally.reordered += Number(fate.request.reordered);
    }
    expect(tally.lostRequests / n).toBeCloseTo(0.1, 1);
    expect(tally.lostReplies / n).toBeCloseTo(0.1, 1);
    expect(tally.duplicated / n).toBeCloseTo(0.05, 1);
    expect(tally.reordered / n).toBeCloseTo(0.2, 1);
  });

  it('does nothing without switches, and delays within the jitter', () => {
    const quiet = callFate(parseChaosSpec('partition=master@1s-2s'), mulberry32(3));
    expect(quiet.request).toEqual({ lost: false, delayMs: 0, duplicated: false, reordered: false });
    expect(quiet.reply).toEqual({ lost: false, delayMs: 0 });
    const spec = parseChaosSpec('delay=20ms±15ms');
    const random = mulberry32(9);
    const delays = Array.from({ length: 2000 }, () => messageFate(spec, random).delayMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...delays)).toBeLessThanOrEqual(35);
    expect(delays.reduce((a, b) => a + b, 0) / delays.length).toBeCloseTo(20, 0);
  });

  it('draws as many numbers whichever switches are on, so one switch does not shift the others', () => {
    const a = mulberry32(5);
    const b = mulberry32(5);
    callFate(parseChaosSpec('drop=0.5'), a);
    callFate(parseChaosSpec('delay=10ms±5ms,dup=0.3'), b);
    expect(a()).toBe(b());
  });

  it('is the same for the same seed', () => {
    const spec = parseChaosSpec('drop=0.3,delay=20ms±15ms,dup=0.2,reorder=0.2');
    const run = () => {
      const random = mulberry32(11);
      return Array.from({ length: 50 }, () => callFate(spec, random));
    };
    expect(run()).toEqual(run());
  });
});

describe('cutOffWindow', () => {
  const spec = parseChaosSpec('partition=worker-1@1s-3s,partition=worker-1@5s-6s,partition=master@2s-4s');
  it('cuts a node off inside its windows only, from inclusive, to exclusive', () => {
    expect(cutOffWindow(spec, 'worker-1', 999)).toBeUndefined();
    expect(cutOffWindow(spec, 'worker-1', 1000)).toEqual({ node: 'worker-1', fromMs: 1000, toMs: 3000 });
    expect(cutOffWindow(spec, 'worker-1', 2999)).toBeDefined();
    expect(cutOffWindow(spec, 'worker-1', 3000)).toBeUndefined();
    expect(cutOffWindow(spec, 'worker-1', 5500)).toEqual({ node: 'worker-1', fromMs: 5000, toMs: 6000 });
    expect(cutOffWindow(spec, 'worker-0', 2000)).toBeUndefined();
    expect(cutOffWindow(spec, 'master', 2000)).toBeDefined();
  });
});

describe('token bucket', () => {
  const rate = 1_000_000; // 1 MB/s: 1000 bytes per ms
  const burst = burstBytesOf(rate);

  it('lets a burst through at once, then makes messages wait for their bytes', () => {
    expect(burst).toBe(50_000);
    let bucket = fullBucket(burst, 0);
    let taken = takeBytes(bucket, 50_000, 0, rate, burst);
    expect(taken.waitMs).toBe(0);
    bucket = taken.bucket;
    taken = takeBytes(bucket, 10_000, 0, rate, burst);
    expect(taken.waitMs).toBe(10);
    taken = takeBytes(taken.bucket, 10_000, 0, rate, burst);
    expect(taken.waitMs).toBe(20);                 // queued behind the one before
    taken = takeBytes(taken.bucket, 1000, 20, rate, burst);
    expect(taken.waitMs).toBe(1);                  // 20 ms paid the 20 KB debt; 1 KB more is 1 ms
  });

  it('refills no further than the burst', () => {
    const taken = takeBytes(fullBucket(burst, 0), 100_000, 60_000, rate, burst);
    expect(taken.waitMs).toBe(50);                  // a minute idle still lets only 50 KB through at once
  });

  it('keeps at least 16 KiB of burst on slow links', () => {
    expect(burstBytesOf(1000)).toBe(16 * 1024);
  });
});
