// The elastic farm's decision: grow at once by what the waiting requests need, shrink one at a
// time only after idleness with nothing waiting and no recent growth (no swinging with each task).
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCALE_POLICY, scaleDecision, type FarmView } from '../../src/core/autoscale.ts';

const policy = { min: 1, max: 4, ...DEFAULT_SCALE_POLICY };
/** A farm of `serving` servers serving and `starting` starting, unless size says otherwise (some taken out for a while). */
const view = (over: Partial<FarmView>): FarmView => {
  const serving = over.serving ?? 1;
  const starting = over.starting ?? 0;
  return { size: serving + starting, serving, starting, queued: 0, slotsPerServer: 1, idleMs: 0, sinceGrowthMs: 60_000, ...over };
};

describe('scaleDecision', () => {
  it('starts as many servers as the waiting requests need, up to max, counting those starting', () => {
    expect(scaleDecision(view({ queued: 3 }), policy)).toBe(3);
    expect(scaleDecision(view({ queued: 10 }), policy)).toBe(3);            // max 4
    expect(scaleDecision(view({ queued: 3, starting: 2 }), policy)).toBe(1);
    expect(scaleDecision(view({ queued: 2, starting: 2 }), policy)).toBe(0);
    expect(scaleDecision(view({ queued: 4, slotsPerServer: 2 }), policy)).toBe(2);
    expect(scaleDecision(view({ serving: 4, queued: 5 }), policy)).toBe(0);
  });

  it('stops one server only after it has been idle a while, nothing waits, and the farm did not just grow', () => {
    expect(scaleDecision(view({ serving: 3, idleMs: 3000 }), policy)).toBe(-1);
    expect(scaleDecision(view({ serving: 3, idleMs: 2999 }), policy)).toBe(0);
    expect(scaleDecision(view({ serving: 3, idleMs: 10_000, sinceGrowthMs: 4000 }), policy)).toBe(0);
    expect(scaleDecision(view({ serving: 3, idleMs: 10_000, starting: 1 }), policy)).toBe(0);
    expect(scaleDecision(view({ serving: 1, idleMs: 10_000 }), policy)).toBe(0);    // min 1
  });

  it('keeps the size steady under a queue that comes and goes within a task (no oscillation)', () => {
    // A farm of 4 whose queue empties between tasks: idle moments shorter than idleBeforeStopMs never stop a server.
    let size = 4;
    for (let t = 0; t < 100; t++) size += Math.min(0, scaleDecision(view({ serving: size, queued: t % 2, idleMs: (t % 2) * 500, sinceGrowthMs: 60_000 }), policy));
    expect(size).toBe(4);
  });

  it('counts a server taken out for a while (joined, not healthy) in the size: never more than max', () => {
    expect(scaleDecision(view({ size: 4, serving: 3, queued: 2 }), policy)).toBe(0);
    expect(scaleDecision(view({ size: 3, serving: 2, queued: 2 }), policy)).toBe(1);
  });

  it('brings the farm up to min', () => {
    expect(scaleDecision(view({ serving: 0 }), { ...policy, min: 2 })).toBe(2);
  });
});
