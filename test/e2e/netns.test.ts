// The horizontal backend across hosts: master, balancer and two servers each in a network
// namespace of their own, joined by a bridge on private addresses this test makes (10.77.x.0/24).
// One server's namespace is killed mid-job; the output must still be whole. Needs root and
// `ip netns` (iproute2); skipped with a message otherwise.
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hosts, unavailable } from '../helpers/hosts.ts';
import { BOOKS, FIXTURES, finished, readParts, recordsOf, removeDir, tempDir } from '../helpers/run-mr.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';
import { until } from '../helpers/until.ts';

const why = unavailable();
if (why) console.warn(`skipping the multi-host test: ${why}`);

const hosts = new Hosts(['master', 'lb', 's1', 's2']);
let dir: string;
let tokenFile: string;

/** A daemon on the host, with the cluster's token: resolves the address it prints first. */
const onHost = (host: string, args: string[]) => hosts.daemon(host, [...args, '--token-file', tokenFile]);

describe.skipIf(why !== undefined)('horizontal across hosts (network namespaces)', () => {
  beforeAll(async () => {
    dir = await tempDir();
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, randomBytes(24).toString('base64url'));
    hosts.setUp();
  });
  afterAll(async () => {
    hosts.tearDown();
    await removeDir(dir);
  });

  it('keeps the job whole when one server host dies mid-job', async () => {
    const balancer = await onHost('lb', ['balancer', '--listen', `${hosts.addressOf('lb')}:0`]);
    const master = await onHost('master', ['master', '--listen', `${hosts.addressOf('master')}:0`, '--work-dir', join(dir, 'master'),
      '--balancer', balancer, '--shared-dir', join(dir, 'shared')]);
    for (const host of ['s1', 's2']) {
      await onHost(host, ['worker', '--join', balancer, '--listen-host', hosts.addressOf(host), '--work-dir', join(dir, host)]);
    }
    const out = join(dir, 'out');
    const run = hosts.spawn('master', ['run', join(FIXTURES, 'slow-reduce.ts'),
      '--input', BOOKS, '--output', out, '--master', master, '--transport', 'horizontal', '--token-file', tokenFile, '--quiet']);
    const result = finished(run);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // into the job
    hosts.kill('s1');
    const r = await result;
    expect(r.stderr).toBe(`job ${/job (\S+)/.exec(r.stderr)?.[1]}\n`);
    expect(r.code).toBe(0);
    expect(recordsOf(await readParts(out))).toEqual(referenceWordCount(inputFiles(BOOKS)));
    // The job's map outputs leave the shared store once it is over.
    await until('the map outputs to leave the shared store', async () => ((await readdir(join(dir, 'shared', 'map-out'))).length === 0 ? true : undefined), 10_000);
  });
});
