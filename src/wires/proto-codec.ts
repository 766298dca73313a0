// The external data representation of every backend: messages are encoded and decoded with the
// schema of proto/mapreduce.proto (protobuf), whether they then travel over gRPC or not.
//
// The service definitions are built here with protobufjs, the library @grpc/proto-loader is made
// of, with exactly proto-loader's conversions (the options below; test/unit/proto-codec.test.ts
// checks every method against proto-loader's own loadSync). proto-loader also describes every
// message and enum as descriptor protos for reflection, which nothing here asks for and which
// was most of its load time: tens of ms in every process of every job, on the path to the
// first task. For the same reason the schema is read from proto/descriptor.json, the .proto
// files already parsed (bin/build-proto.mjs writes it; the test checks it matches them).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs/light.js';
import { MASTER_METHODS, type MasterMethod } from './contract.gen.ts';

export const PROTO_PATH = fileURLToPath(new URL('../../proto/mapreduce.proto', import.meta.url));
/** The standard gRPC health service (grpc.health.v1, as published by the gRPC authors), loaded with ours. */
export const HEALTH_PROTO_PATH = fileURLToPath(new URL('../../proto/health.proto', import.meta.url));
/** Both, parsed: what bin/build-proto.mjs makes of them. */
export const DESCRIPTOR_PATH = fileURLToPath(new URL('../../proto/descriptor.json', import.meta.url));

/** proto-loader's options, as its loadSync would take them. */
export const LOADER_OPTIONS = {
  keepCase: false,       // fields in camelCase, as src/wires/messages.ts declares them
  longs: Number,         // 64-bit counters and sizes stay below 2^53
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

/** One RPC, in the shape grpc-js takes (grpc.MethodDefinition). */
export interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  originalName: string;
  requestSerialize(message: any): Buffer;
  requestDeserialize(bytes: Buffer): any;
  responseSerialize(message: any): Buffer;
  responseDeserialize(bytes: Buffer): any;
}

/** Services by full name ('mr.Master', 'grpc.health.v1.Health'), each its methods by name. */
export type PackageDefinition = Record<string, Record<string, MethodDefinition>>;

let definition: PackageDefinition | undefined;

export function packageDefinition(): PackageDefinition {
  definition ??= servicesOf(protobuf.Root.fromJSON(JSON.parse(readFileSync(DESCRIPTOR_PATH, 'utf8')) as protobuf.INamespace));
  return definition;
}

function servicesOf(root: protobuf.Root): PackageDefinition {
  root.resolveAll();
  const services: PackageDefinition = {};
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const object of namespace.nestedArray) {
      if (object instanceof protobuf.Service) services[object.fullName.slice(1)] = methodsOf(object);
      else if (object instanceof protobuf.Namespace || object instanceof protobuf.Type) visit(object);
    }
  };
  visit(root);
  return services;
}

function methodsOf(service: protobuf.Service): Record<string, MethodDefinition> {
  const methods: Record<string, MethodDefinition> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    methods[method.name] = {
      path: `/${service.fullName.slice(1)}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      originalName: method.name[0]!.toLowerCase() + method.name.slice(1),
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
    };
  }
  return methods;
}

function serializer(type: protobuf.Type): (message: any) => Buffer {
  return (message) => {
    if (Array.isArray(message)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(message)).finish() as Buffer;
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => any {
  return (bytes) => type.toObject(type.decode(bytes), LOADER_OPTIONS);
}

export interface MethodCodec {
  encodeRequest(message: object): Buffer;
  decodeRequest(bytes: Uint8Array): any;
  encodeReply(message: object): Buffer;
  decodeReply(bytes: Uint8Array): any;
}

/** The codec of one RPC, e.g. methodCodec('Master', 'SubmitJob'). */
export function methodCodec(service: 'Master' | 'Worker', method: string): MethodCodec {
  const m = packageDefinition()[`mr.${service}`]?.[method];
  if (!m) throw new Error(`no method ${service}.${method} in ${PROTO_PATH}`);
  return {
    encodeRequest: (message) => m.requestSerialize(message),
    decodeRequest: (bytes) => m.requestDeserialize(bytes as Buffer),   // protobufjs decodes any Uint8Array
    encodeReply: (message) => m.responseSerialize(message),
    decodeReply: (bytes) => m.responseDeserialize(bytes as Buffer),
  };
}

const codecs = new Map<string, MethodCodec>();

/** The codec of an RPC by the name MasterService and WorkerService give it (camelCase: 'submitJob'), made once. */
export function codecOf(service: 'Master' | 'Worker', method: string): MethodCodec {
  const key = `${service}.${method}`;
  let codec = codecs.get(key);
  if (!codec) codecs.set(key, (codec = methodCodec(service, method[0].toUpperCase() + method.slice(1))));
  return codec;
}

/** A service's handlers as handlers of encoded bytes: each request decoded, each reply encoded. */
export type EncodedHandlers = Record<string, (request: Uint8Array) => Promise<Uint8Array>>;

/** The Master service as handlers of encoded bytes, for wires that carry messages of their own framing. */
export function encodedMasterService(handlers: Record<MasterMethod, (request: any) => Promise<object>>): EncodedHandlers {
  const encoded: EncodedHandlers = {};
  for (const method of MASTER_METHODS) {
    const codec = codecOf('Master', method);
    const call = handlers[method].bind(handlers);
    encoded[method] = async (bytes) => codec.encodeReply(await call(codec.decodeRequest(bytes)));
  }
  return encoded;
}
