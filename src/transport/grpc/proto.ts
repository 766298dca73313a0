// Loads proto/mapreduce.proto at run time (proto-loader), giving the service definitions the
// gRPC backend serves and the client constructors it connects with.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_PATH = fileURLToPath(new URL('../../../proto/mapreduce.proto', import.meta.url));

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,       // fields in camelCase, as src/transport/messages.ts declares them
  longs: Number,         // 64-bit counters and sizes stay below 2^53
  enums: String,
  defaults: true,
  oneofs: true,
};

type ServiceConstructor = grpc.ServiceClientConstructor;

interface LoadedProto {
  Master: ServiceConstructor;
  Worker: ServiceConstructor;
}

let loaded: LoadedProto | undefined;

export function loadProto(): LoadedProto {
  if (!loaded) {
    const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(definition).mr as grpc.GrpcObject;
    loaded = { Master: pkg.Master as ServiceConstructor, Worker: pkg.Worker as ServiceConstructor };
  }
  return loaded;
}
