// What starts and stops an elastic farm's servers. Here, local processes (`mr worker --join`);
// the shape is a cloud's or Kubernetes' too: start n instances (replicas) that join the balancer
// themselves, ask one to leave (it drains: finishes what it runs, then exits).
import type { ProcessPool } from '../../pools/process-pool.ts';

export interface ServerProvider {
  /** Servers started and not asked to leave (some may not have joined yet). */
  readonly size: number;
  start(count: number): Promise<void>;
  /** Asks one server to leave; false when there is none. */
  stopOne(): boolean;
}

/** Servers as processes of this machine, from the pool that starts them. */
export function localProcesses(pool: ProcessPool): ServerProvider {
  return {
    get size() {
      return pool.size;
    },
    async start(count) {
      for (let i = 0; i < count; i++) await pool.add();
    },
    stopOne: () => pool.retire(),
  };
}
