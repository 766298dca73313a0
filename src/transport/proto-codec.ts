// The external data representation of every backend: messages are encoded and decoded with the
// schema of proto/mapreduce.proto (protobuf), whether they then travel over gRPC or not.
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_PATH = fileURLToPath(new URL('../../proto/mapreduce.proto', import.meta.url));
/** The standard gRPC health service (grpc.health.v1, as published by the gRPC authors), loaded with ours. */
export const HEALTH_PROTO_PATH = fileURLToPath(new URL('../../proto/health.proto', import.meta.url));

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,       // fields in camelCase, as src/transport/messages.ts declares them
  longs: Number,         // 64-bit counters and sizes stay below 2^53
  enums: String,
  defaults: true,
  oneofs: true,
};

let definition: protoLoader.PackageDefinition | undefined;

export function packageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync([PROTO_PATH, HEALTH_PROTO_PATH], LOADER_OPTIONS);
  return definition;
}

export interface MethodCodec {
  encodeRequest(message: object): Buffer;
  decodeRequest(bytes: Buffer): any;
  encodeReply(message: object): Buffer;
  decodeReply(bytes: Buffer): any;
}

/** The codec of one RPC, e.g. methodCodec('Master', 'SubmitJob'). */
export function methodCodec(service: 'Master' | 'Worker', method: string): MethodCodec {
  const methods = packageDefinition()[`mr.${service}`] as protoLoader.ServiceDefinition;
  const m = methods[method];
  if (!m) throw new Error(`no method ${service}.${method} in ${PROTO_PATH}`);
  return {
    encodeRequest: (message) => m.requestSerialize(message),
    decodeRequest: (bytes) => m.requestDeserialize(bytes),
    encodeReply: (message) => m.responseSerialize(message),
    decodeReply: (bytes) => m.responseDeserialize(bytes),
  };
}
