// Who may talk to the daemons: a shared secret on every RPC, loopback unless one is given; health checks.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { BOOKS, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let cluster: Cluster;
let tokenFile: string;
beforeAll(async () => {
  dir = await tempDir();
  tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 'correct horse battery staple\n');
  cluster = await startCluster(join(dir, 'cluster'), 1, ['--token-file', tokenFile], ['--token-file', tokenFile]);
});
afterAll(async () => {
  await cluster?.stop();
  await removeDir(dir);
});

function healthOf(address: string): Promise<string> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })) as any;
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => client.check({ service: '' }, { deadline: Date.now() + 5000 }, (error: Error | null, reply: { status: string }) => {
    client.close();
    if (error) reject(error);
    else resolve(reply.status);
  }));
}

describe('the token', () => {
  it('lets a client with the right secret in and turns the others away with exit 2', async () => {
    const ok = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'out'), '--master', cluster.address, '--token-file', tokenFile, '--quiet']);
    expect(ok.code).toBe(0);
    for (const extra of [[], ['--token', 'wrong']]) {
      const r = await runMr(['status', '--master', cluster.address, ...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^mr: missing or wrong token/);
      expect(r.stderr).not.toContain('correct horse');
    }
  });

  it('is required to bind beyond loopback', async () => {
    const r = await runMr(['master', '--listen', '0.0.0.0:0', '--work-dir', join(dir, 'open')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/reachable from other machines/);
  });

  it('is not needed for the standard health check', async () => {
    expect(await healthOf(cluster.address)).toBe('SERVING');
  });
});
