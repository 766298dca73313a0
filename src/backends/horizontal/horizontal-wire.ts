// The horizontal backend: identical stateless worker servers behind a load-balancing switch,
// the way web-scale services run. Messages travel as on grpc; the shape is in who talks to whom:
// tasks are sent to the balancer (balancer/), which hands each to the healthy server with
// the fewest requests in flight and fails it over to another when that server dies mid-request;
// servers keep map outputs in a shared store, so losing one loses no data; every task is
// idempotent (map outputs staged per server and renamed into place, part files written under a
// name of their own and renamed after the master allowed the commit, one completion per task),
// and a server runs an attempt it is sent twice (a duplicated or retried RunTask) once.
import { createGrpcWire } from '../../wires/grpc/grpc-wire.ts';
import type { Wire, WireOptions } from '../../wires/transport.ts';

export function createHorizontalWire(options: WireOptions = {}): Wire {
  return {
    ...createGrpcWire(options),
    name: 'horizontal',
    capabilities: { multiHost: true, multiProcess: true, sharedMemory: false, faultInjection: true },
  };
}
