// The --chaos spec parser: every switch, its forms and its units; a bad spec is one UsageError line naming the part.
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { scheduleRestarts } from '../../src/wires/chaos/chaos-restart.ts';
import { namedNodes, parseChaosSpec, specOfNode } from '../../src/wires/chaos/chaos-spec.ts';

describe('parseChaosSpec', () => {
  it('reads the issue\'s example', () => {
    expect(parseChaosSpec('drop=0.05,delay=20ms±15ms,dup=0.02,reorder=0.05,bandwidth=10MB/s,partition=worker-2@3s-8s')).toEqual({
      drop: 0.05, dup: 0.02, reorder: 0.05, delay: { ms: 20, jitterMs: 15 }, bandwidthBytesPerSec: 10e6,
      partitions: [{ node: 'worker-2', fromMs: 3000, toMs: 8000 }],
    });
  });

  it('leaves off what is not given', () => {
    expect(parseChaosSpec('drop=0.1')).toEqual({ drop: 0.1, dup: 0, reorder: 0, partitions: [] });
  });

  it('takes the delay with ±, +-, +/- or no jitter, in ms or s', () => {
    expect(parseChaosSpec('delay=20ms').delay).toEqual({ ms: 20, jitterMs: 0 });
    expect(parseChaosSpec('delay=20ms+-5ms').delay).toEqual({ ms: 20, jitterMs: 5 });
    expect(parseChaosSpec('delay=20ms+/-5').delay).toEqual({ ms: 20, jitterMs: 5 });   // the jitter in the delay's unit
    expect(parseChaosSpec('delay=1s±200ms').delay).toEqual({ ms: 1000, jitterMs: 200 });
    expect(parseChaosSpec('delay = 0.5s ± 0.1s').delay).toEqual({ ms: 500, jitterMs: 100 });
  });

  it('takes bandwidths in decimal and binary units', () => {
    expect(parseChaosSpec('bandwidth=500KB/s').bandwidthBytesPerSec).toBe(500e3);
    expect(parseChaosSpec('bandwidth=1MiB/s').bandwidthBytesPerSec).toBe(1 << 20);
    expect(parseChaosSpec('bandwidth=2gb/s').bandwidthBytesPerSec).toBe(2e9);
    expect(parseChaosSpec('bandwidth=64B/s').bandwidthBytesPerSec).toBe(64);
  });

  it('takes several partitions, in s or ms', () => {
    expect(parseChaosSpec('partition=worker-0@1s-2s,partition=master@500ms-1.5s,partition=worker-1@2-4s').partitions).toEqual([
      { node: 'worker-0', fromMs: 1000, toMs: 2000 },
      { node: 'master', fromMs: 500, toMs: 1500 },
      { node: 'worker-1', fromMs: 2000, toMs: 4000 },
    ]);
  });

  it('takes probabilities as fractions or percentages', () => {
    expect(parseChaosSpec('drop=5%,dup=.5,reorder=0').drop).toBe(0.05);
    expect(parseChaosSpec('dup=.5').dup).toBe(0.5);
  });

  const bad: [string, RegExp][] = [
    ['', /at least one switch/],
    [' , ', /at least one switch/],
    ['drop', /drop: expected switch=value/],
    ['drop=1', /drop=1: wants a probability/],
    ['drop=-0.1', /wants a probability/],
    ['drop=abc', /wants a probability/],
    ['drop=0.1,drop=0.2', /drop=0.2: drop is given twice/],
    ['loss=0.1', /loss=0.1: unknown switch loss; the switches are drop, delay, dup, reorder, bandwidth, partition/],
    ['delay=20', /delay=20: wants a delay/],
    ['delay=5ms±10ms', /jitter \(10 ms\) cannot exceed the delay \(5 ms\)/],
    ['bandwidth=10MB', /bandwidth=10MB: wants bytes per second/],
    ['bandwidth=0MB/s', /wants bytes per second/],
    ['bandwidth=10Mbit/s', /wants bytes per second/],
    ['partition=worker-1', /wants <node>@<from>-<to>/],
    ['partition=worker-1@8s-3s', /must end after it starts/],
    ['partition=@1s-2s', /wants <node>@<from>-<to>/],
  ];
  for (const [spec, message] of bad) {
    it(`refuses ${JSON.stringify(spec)} with one line`, () => {
      let error: unknown;
      try {
        parseChaosSpec(spec);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^--chaos /);
      expect((error as Error).message).not.toContain('\n');
    });
  }
});

describe('switches of one node, intruders and restarts', () => {
  it('takes rate@node as that node\'s own rate, over everyone\'s', () => {
    const spec = parseChaosSpec('drop=0.1,delay=80ms±10ms@worker-1,bandwidth=1MB/s@worker-1,drop=0.3@worker-0');
    expect(spec.drop).toBe(0.1);
    expect(spec.delay).toBeUndefined();
    expect(spec.nodes).toEqual({ 'worker-1': { delay: { ms: 80, jitterMs: 10 }, bandwidthBytesPerSec: 1e6 }, 'worker-0': { drop: 0.3 } });
    expect(specOfNode(spec, 'worker-1')).toMatchObject({ drop: 0.1, delay: { ms: 80, jitterMs: 10 }, bandwidthBytesPerSec: 1e6 });
    expect(specOfNode(spec, 'worker-0')).toMatchObject({ drop: 0.3 });
    expect(specOfNode(spec, 'master')).toBe(spec);
    expect(namedNodes(spec).sort()).toEqual(['worker-0', 'worker-1']);
  });

  it('refuses the same rate twice for one node, but not for two', () => {
    expect(() => parseChaosSpec('delay=5ms@worker-1,delay=6ms@worker-1')).toThrow(/delay@worker-1 is given twice/);
    expect(() => parseChaosSpec('delay=5ms,delay=6ms@worker-1')).not.toThrow();
  });

  it('reads intruder=P and restart=<node>@<time>', () => {
    const spec = parseChaosSpec('intruder=0.2,restart=worker-1@4s,restart=worker-0@1500ms');
    expect(spec.intruder).toBe(0.2);
    expect(spec.restarts).toEqual([{ node: 'worker-1', atMs: 4000 }, { node: 'worker-0', atMs: 1500 }]);
    expect(namedNodes(spec).sort()).toEqual(['worker-0', 'worker-1']);
    expect(() => parseChaosSpec('restart=worker-1')).toThrow(UsageError);
    expect(() => parseChaosSpec('restart=worker-1@soon')).toThrow(/wants <node>@<time>/);
    expect(() => parseChaosSpec('intruder=1')).toThrow(/probability/);
  });
});

describe('scheduleRestarts', () => {
  it('kills the node at its moment, counted from the epoch, and not again once it has passed', () => {
    vi.useFakeTimers();
    try {
      const settings = { text: '', seed: 1, epochMs: 10_000, spec: parseChaosSpec('restart=worker-1@4s') };
      let killed = 0;
      scheduleRestarts(settings, 'worker-1', () => killed++, () => 11_000); // 1 s into the run
      scheduleRestarts(settings, 'worker-0', () => killed++, () => 11_000); // not this node
      vi.advanceTimersByTime(2_999);
      expect(killed).toBe(0);
      vi.advanceTimersByTime(1);
      expect(killed).toBe(1);
      expect(scheduleRestarts(settings, 'worker-1', () => killed++, () => 14_500)).toEqual([]); // its replacement lives on
    } finally {
      vi.useRealTimers();
    }
  });
});
