#!/usr/bin/env node
// Writes proto/descriptor.json: proto/mapreduce.proto and proto/health.proto as protobufjs JSON
// (field names camel-cased, as the engine uses them). The engine loads that at start-up instead of
// parsing the .proto text in every process; the .proto files stay the one interface specification,
// and test/unit/proto-codec.test.ts fails when the JSON no longer matches them.
// Usage: npm run proto (after editing a .proto file).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

/** The JSON text of the descriptor, as written. */
export function descriptorJson() {
  const root = new protobuf.Root().loadSync([join(PROTO_DIR, 'mapreduce.proto'), join(PROTO_DIR, 'health.proto')], { keepCase: false });
  return JSON.stringify(root.toJSON(), null, 1) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(PROTO_DIR, 'descriptor.json'), descriptorJson());
}
