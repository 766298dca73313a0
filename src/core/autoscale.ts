// When an elastic farm grows or shrinks: a pure decision from what the balancer sees, so that it
// is tested on its own and the same whatever starts the servers (local processes, a cloud, a
// Kubernetes Deployment). Hysteresis: it grows at once when requests wait, by as many servers as
// their slots need; it shrinks by one at a time, only once a server has been idle a while, no
// request waits, and the last growth is not recent; so the size does not swing with each task.

export interface FarmView {
  /** Servers started and not asked to leave: serving, starting, or taken out for a while. */
  size: number;
  /** Servers serving now (joined, healthy, not leaving). */
  serving: number;
  /** Servers started that have not joined yet. */
  starting: number;
  /** Requests waiting at the balancer for a free slot. */
  queued: number;
  /** Requests each server takes at once. */
  slotsPerServer: number;
  /** How long some server has had nothing to do, with nothing waiting (0: none idle). */
  idleMs: number;
  /** Since the farm last grew. */
  sinceGrowthMs: number;
}

export interface ScalePolicy {
  min: number;
  max: number;
  /** A server idle this long, with nothing waiting, may be stopped. */
  idleBeforeStopMs: number;
  /** No server is stopped this soon after the farm grew. */
  quietAfterGrowthMs: number;
}

export const DEFAULT_SCALE_POLICY: Omit<ScalePolicy, 'min' | 'max'> = { idleBeforeStopMs: 3000, quietAfterGrowthMs: 5000 };

/** Servers to start (> 0), to stop (-1), or 0. */
export function scaleDecision(view: FarmView, policy: ScalePolicy): number {
  const { size } = view;
  if (size < policy.min) return policy.min - size;
  if (view.queued > 0) {
    // Those starting will take some of what waits: start only what they cannot.
    const needed = Math.ceil(view.queued / Math.max(1, view.slotsPerServer)) - view.starting;
    return Math.max(0, Math.min(needed, policy.max - size));
  }
  if (size > policy.min && view.serving > 1 && view.starting === 0 && view.idleMs >= policy.idleBeforeStopMs && view.sinceGrowthMs >= policy.quietAfterGrowthMs) return -1;
  return 0;
}
