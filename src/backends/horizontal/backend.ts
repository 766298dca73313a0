// horizontal: stateless servers behind a balancer, with health checks and fail-over; servers join
// and leave mid-job (--autoscale). Its figures: the servers over time and the fail-overs.
import { commonReport, type Backend } from '../backend.ts';
import { HorizontalCluster } from './cluster.ts';
import { createHorizontalWire } from './horizontal-wire.ts';

export const horizontalBackend: Backend = {
  name: 'horizontal',
  wire: createHorizontalWire,
  runs: { sizing: 'workers', autoscale: true },
  pool: (context) => new HorizontalCluster({
    servers: context.workers, autoscale: context.autoscale, masterAddress: context.masterAddress, workRoot: context.workRoot,
    transport: context.transport, transportName: 'horizontal', token: context.token, chaos: context.chaos, onAllExited: (why) => context.onGone(why),
  }),
  report: (pool, facts) => {
    const cluster = pool as HorizontalCluster;
    return { ...commonReport(facts, cluster.maxServers), failovers: cluster.failovers, servers: cluster.timeline };
  },
};
