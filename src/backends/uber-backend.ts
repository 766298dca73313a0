// Uber mode's way of running the backend asked for (src/cli/uber-mode.ts decides when): one
// worker inside mr run over the memory wire (every message still encoded with the proto schema),
// so a tiny job starts no worker process. Its report is the asked backend's figures, under its name.
import { InProcessPool } from '../pools/in-process-pool.ts';
import { createMemoryWire } from '../wires/memory/memory-wire.ts';
import { commonReport, type Backend } from './backend.ts';

export const UBER_WORKERS = 1;

export function uberBackend(asked: Backend): Backend {
  return {
    name: asked.name,
    wire: createMemoryWire,
    runs: asked.runs,
    pool: (context) => new InProcessPool({
      count: UBER_WORKERS, masterAddress: context.masterAddress, workRoot: context.workRoot, transportOf: () => context.transport,
    }),
    report: (_pool, facts) => ({ ...commonReport(facts, UBER_WORKERS), name: asked.name }),
  };
}
