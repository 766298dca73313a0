// The simulated machines (hypercube, butterfly): one worker per node, in worker threads; the
// report is the machine's own, from the job's trace.
import { ThreadPool } from '../pools/thread-pool.ts';
import type { WireFactory } from '../wires/transport.ts';
import type { Backend } from './backend.ts';

export function machineBackend(name: string, wire: WireFactory): Backend {
  return {
    name,
    wire,
    runs: { sizing: 'machine' },
    pool: (context) => {
      const { machine } = context.transport;
      if (!machine) throw new Error(`backend ${name} has no simulated machine`);
      return new ThreadPool({
        machine, transport: name, token: context.token, masterAddress: context.masterAddress, workRoot: context.workRoot,
        tuning: context.tuning, chaos: context.chaos, onFailed: (why) => context.onGone(why), onBusy: (nodes) => context.nodesBusy(nodes),
      });
    },
    report: (_pool, facts) => facts.transport.machine!.report(facts.trace()),
  };
}
