// memory: master and workers in this one process, calls passed as objects (no encoding).
import { InProcessPool } from '../../pools/in-process-pool.ts';
import { createMemoryWire } from '../../wires/memory/memory-wire.ts';
import { commonReport, type Backend } from '../backend.ts';

export const memoryBackend: Backend = {
  name: 'memory',
  wire: createMemoryWire,
  runs: { sizing: 'workers' },
  pool: (context) => new InProcessPool({
    count: context.workers, masterAddress: context.masterAddress, workRoot: context.workRoot,
    transportOf: (slot) => (context.chaos ? context.transportOf(`worker-${slot}`) : context.transport),
  }),
  report: (_pool, facts) => commonReport(facts),
};
