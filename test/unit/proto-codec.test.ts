// The service definitions of proto-codec.ts against @grpc/proto-loader's own: the same methods,
// and every message encoded to the same bytes and decoded to the same objects. And what
// bin/build-proto.mjs generates from the .proto files, against them: fresh, and true to the codec.
import { readFileSync } from 'node:fs';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script of the project, without types
import { CONTRACT_PATH, contractFields, contractTs, descriptorJson } from '../../bin/build-proto.mjs';
import { DESCRIPTOR_PATH, HEALTH_PROTO_PATH, LOADER_OPTIONS, PROTO_PATH, packageDefinition } from '../../src/wires/proto-codec.ts';

const reference = protoLoader.loadSync([PROTO_PATH, HEALTH_PROTO_PATH], LOADER_OPTIONS);
const ours = packageDefinition();

type Method = protoLoader.MethodDefinition<object, object>;
const referenceServices = Object.entries(reference).filter(([, value]) => !('format' in value)) as [string, Record<string, Method>][];

// Messages with every kind of field: nested messages, repeated fields, maps, oneofs, 64-bit numbers, enums-as-strings, bytes.
const SAMPLES: Record<string, object[]> = {
  RequestTask: [{ workerId: 'w-1', waitMs: 2000, requestId: '7' }],
  SubmitJob: [{ jobId: 'job-1', stages: [{ jobPath: '/a/job.mjs', inputFiles: ['/in/a.txt', '/in/b.txt'], outputDir: '/out', reducers: 4, splitBytes: 16 << 20 }] }],
  ReportAttempt: [{
    workerId: 'w-2', attemptId: 'a-1', ok: true, outputId: 'o-1', counters: { 'map.inputBytes': 2 ** 40, 'map.spills': 0 },
    partitionBytes: [1, 2 ** 33, 0], lostMapTasks: [3, 4], log: 'é\n', wantTask: true,
    stats: { role: 'worker', pid: 42, workerId: 'w-2', cpuMs: 12, maxRssKib: 90000, startedAtMs: 1796421767181.5 },
  }],
  FetchPartition: [{ outputId: 'o-1', partition: 3 }],
};

describe('the service definitions', () => {
  it('come from proto/descriptor.json, which is what the .proto files say (else: npm run proto)', () => {
    expect(readFileSync(DESCRIPTOR_PATH, 'utf8')).toBe(descriptorJson());
  });

  it('hold the services and methods proto-loader finds, with the same paths, streams and names', () => {
    expect(Object.keys(ours).sort()).toEqual(referenceServices.map(([name]) => name).sort());
    for (const [name, methods] of referenceServices) {
      expect(Object.keys(ours[name]!).sort(), name).toEqual(Object.keys(methods).sort());
      for (const [method, ref] of Object.entries(methods)) {
        const mine = ours[name]![method]!;
        expect({ path: mine.path, requestStream: mine.requestStream, responseStream: mine.responseStream, originalName: mine.originalName }, `${name}.${method}`)
          .toEqual({ path: ref.path, requestStream: ref.requestStream, responseStream: ref.responseStream, originalName: ref.originalName });
      }
    }
  });

  it('encode and decode every request and reply as proto-loader does', () => {
    let checked = 0;
    for (const [name, methods] of referenceServices) {
      for (const [method, ref] of Object.entries(methods)) {
        const mine = ours[name]![method]!;
        for (const message of [{}, ...(SAMPLES[method] ?? [])]) {
          const bytes = ref.requestSerialize(message);
          expect(Buffer.from(mine.requestSerialize(message)), `${name}.${method} request`).toEqual(Buffer.from(bytes));
          expect(mine.requestDeserialize(bytes as Buffer), `${name}.${method} request`).toEqual(ref.requestDeserialize(bytes as Buffer));
          checked++;
        }
        const empty = ref.responseSerialize({});
        expect(Buffer.from(mine.responseSerialize({}))).toEqual(Buffer.from(empty));
        expect(mine.responseDeserialize(empty as Buffer), `${name}.${method} reply`).toEqual(ref.responseDeserialize(empty as Buffer));
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('decode a status and a task with nested, repeated and oneof fields as proto-loader does', () => {
    const status = ours['mr.Master']!.GetJobStatus!;
    const refStatus = (reference['mr.Master'] as Record<string, Method>).GetJobStatus!;
    const reply = { taskReply: undefined, jobId: 'job-1', state: 'running', stages: [{ mapTotal: 8, counters: { 'map.inputBytes': 5 } }], processes: [{ role: 'master', pid: 1 }] };
    const bytes = refStatus.responseSerialize(reply);
    expect(status.responseDeserialize(bytes as Buffer)).toEqual(refStatus.responseDeserialize(bytes as Buffer));
    const request = ours['mr.Master']!.RequestTask!;
    const refRequest = (reference['mr.Master'] as Record<string, Method>).RequestTask!;
    for (const taskReply of [{ retryAfterMs: 200 }, { shutdown: true }, { task: { jobId: 'j', kind: 'map', split: { path: '/in/a.txt', start: 0, end: 2 ** 35 }, mapOutputs: [{ mapTask: 1, outputId: 'o' }] } }]) {
      const encoded = refRequest.responseSerialize(taskReply);
      expect(Buffer.from(request.responseSerialize(taskReply))).toEqual(Buffer.from(encoded));
      expect(request.responseDeserialize(encoded as Buffer)).toEqual(refRequest.responseDeserialize(encoded as Buffer));
    }
  });
});

describe('the generated contract (src/wires/contract.gen.ts)', () => {
  it('is what bin/build-proto.mjs makes of proto/mapreduce.proto now (else: npm run proto)', () => {
    expect(readFileSync(CONTRACT_PATH, 'utf8')).toBe(contractTs());
  });

  it('declares each message as the codec decodes it: the fields always present, and of what kind', () => {
    const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(DESCRIPTOR_PATH, 'utf8')) as protobuf.INamespace);
    const fields = contractFields() as Record<string, { name: string; type: string; optional: boolean }[]>;
    const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : Buffer.isBuffer(value) ? 'Buffer' : typeof value === 'object' ? 'record' : typeof value);
    const declared = (ts: string) => (ts.endsWith(' | null') ? 'null' : ts.endsWith('[]') ? 'array' : ts.startsWith('Record<') ? 'record' : ts);
    expect(Object.keys(fields).length).toBeGreaterThan(40);
    for (const [name, declaredFields] of Object.entries(fields)) {
      const type = root.lookupType(`mr.${name}`);
      const decoded = type.toObject(type.decode(new Uint8Array()), LOADER_OPTIONS) as Record<string, unknown>;
      const present = declaredFields.filter((field) => !field.optional);
      expect(Object.keys(decoded).sort(), name).toEqual(present.map((field) => field.name).sort());
      expect(Object.fromEntries(Object.entries(decoded).map(([key, value]) => [key, kindOf(value)])), name)
        .toEqual(Object.fromEntries(present.map((field) => [field.name, declared(field.type)])));
    }
  });
});
