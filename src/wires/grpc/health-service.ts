// The standard gRPC health service (grpc.health.v1.Health, proto/health.proto) of one server:
// the whole server (service '') is SERVING until it stops. Check answers it, Watch streams it
// and its changes, List gives it. What load balancers and probes (grpc_health_probe, Kubernetes)
// ask a gRPC server.
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './grpc-js.ts';
import { packageDefinition } from '../proto-codec.ts';

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface StatusReply { status: ServingStatus }

/** The service's method definitions (paths and codecs), for servers and for callers alike. */
export function healthDefinition(): grpc.ServiceDefinition {
  return packageDefinition()['grpc.health.v1.Health'] as grpc.ServiceDefinition;
}

export class HealthService {
  private status: ServingStatus = 'SERVING';
  private readonly watchers = new Set<grpc.ServerWritableStream<{ service: string }, StatusReply>>();

  addTo(server: grpc.Server): void {
    server.addService(healthDefinition(), {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, StatusReply>, callback: grpc.sendUnaryData<StatusReply>) => {
        if (call.request.service !== '') {
          callback({ code: grpcJs().status.NOT_FOUND, details: `Health status unknown for service ${call.request.service}` });
          return;
        }
        callback(null, { status: this.status });
      },
      Watch: (call: grpc.ServerWritableStream<{ service: string }, StatusReply>) => {
        if (call.request.service !== '') {
          call.write({ status: 'SERVICE_UNKNOWN' }); // and the call stays open, as the protocol says
          return;
        }
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
        call.write({ status: this.status });
      },
      List: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        callback(null, { statuses: { '': { status: this.status } } });
      },
    });
  }

  setStatus(status: ServingStatus): void {
    this.status = status;
    for (const watcher of this.watchers) watcher.write({ status });
  }
}
