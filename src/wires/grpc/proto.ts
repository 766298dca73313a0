// The gRPC backend's view of proto/mapreduce.proto: service definitions to serve and client
// constructors to connect with.
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './grpc-js.ts';
import { packageDefinition } from '../proto-codec.ts';

type ServiceConstructor = grpc.ServiceClientConstructor;

interface LoadedProto {
  Master: ServiceConstructor;
  Worker: ServiceConstructor;
}

let loaded: LoadedProto | undefined;

export function loadProto(): LoadedProto {
  if (!loaded) {
    const pkg = grpcJs().loadPackageDefinition(packageDefinition()).mr as grpc.GrpcObject;
    loaded = { Master: pkg.Master as ServiceConstructor, Worker: pkg.Worker as ServiceConstructor };
  }
  return loaded;
}
