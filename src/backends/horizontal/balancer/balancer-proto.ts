// The balancer's part of proto/mapreduce.proto (the Balancer service; the Worker service it
// forwards comes from the gRPC backend's loadProto) and the one health RPC it sends to servers.
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from '../../../wires/grpc/grpc-js.ts';
import { healthDefinition, type ServingStatus } from '../../../wires/grpc/health-service.ts';
import { packageDefinition } from '../../../wires/proto-codec.ts';

let balancer: grpc.ServiceClientConstructor | undefined;

export function balancerService(): grpc.ServiceClientConstructor {
  if (!balancer) {
    const pkg = grpcJs().loadPackageDefinition(packageDefinition()).mr as grpc.GrpcObject;
    balancer = pkg.Balancer as grpc.ServiceClientConstructor;
  }
  return balancer;
}

export type { ServingStatus };

/**
 * grpc.health.v1.Health/Check of the whole server (service ''), on a channel the caller already
 * holds: the probe travels the same connection as the requests, so it sees what they would see.
 */
export function checkHealth(client: grpc.Client, metadata: grpc.Metadata, deadlineMs: number): Promise<ServingStatus> {
  const check = healthDefinition().Check!;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service: '' },
      metadata,
      { deadline: Date.now() + deadlineMs },
      (error, reply) => (error ? reject(error) : resolve((reply as { status: ServingStatus }).status)),
    );
  });
}
