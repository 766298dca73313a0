// The horizontal backend: identical stateless worker servers behind a load-balancing switch,
// the way web-scale services run. Messages travel as on grpc; the shape is in who talks to whom:
// tasks are sent to the balancer (src/balancer/), which hands each to the healthy server with
// the fewest requests in flight and fails it over to another when that server dies mid-request;
// servers keep map outputs in a shared store, so losing one loses no data; every task is
// idempotent (output names fixed by the attempt, commit by rename, one completion per task).
import { createGrpcTransport } from '../grpc/grpc-transport.ts';
import type { Transport, TransportOptions } from '../transport.ts';

export function createHorizontalTransport(options: TransportOptions = {}): Transport {
  return {
    // No chaos layer: tasks travel from the dispatcher through the balancer's own channels, which
    // it does not wrap, and a duplicated RunTask would run one attempt twice at once.
    ...createGrpcTransport({ ...options, chaos: undefined }),
    name: 'horizontal',
    capabilities: { multiHost: true, multiProcess: true, sharedMemory: false, faultInjection: false, stateless: true },
  };
}
