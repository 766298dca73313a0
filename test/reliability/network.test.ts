// The network is not reliable, latency is not zero, bandwidth is not infinite, topology changes:
// jobs under --chaos (each switch alone and all together, on every backend that carries it), a
// worker cut off while it holds map outputs, the master cut off from every worker for longer than
// the lease, and a worker that comes back on another port mid-job. Every run must write exactly
// the sequential word count, and the fault must have happened (chaos counts, attempt histories).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { inputFiles, referenceLineLengthsMod7, referenceWordCount } from '../helpers/reference.ts';
import { BOOKS, FIXTURES, finished, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { until } from '../helpers/until.ts';
import { reliabilityCase } from './harness.ts';

let dir: string;
let reference: Map<string, string>;
let runs = 0;
const clusters: Cluster[] = [];

beforeAll(async () => {
  dir = await tempDir('mr-network-');
  reference = referenceWordCount(inputFiles(BOOKS));
});
afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  await removeDir(dir);
});

async function wordcount(extra: string[], job = 'jobs/wordcount.ts') {
  const out = join(dir, `out-${runs++}`);
  const result = await runMr(['run', job, '--input', BOOKS, '--output', out, '--reducers', '4', '--json', '--quiet', ...extra]);
  if (result.code !== 0) throw new Error(`mr run ${extra.join(' ')} exited ${result.code}: ${result.stderr}`);
  return { out, json: JSON.parse(result.stdout), stderr: result.stderr };
}

// The seed decides each fate: with seed 27, the first six status calls of `mr run` (its node,
// master) lose a request and a reply under drop=0.1, and one is duplicated under dup=0.1,
// whatever the timing; the other nodes' messages add more.
const SEED = '27';

describe('each chaos switch alone, on grpc', () => {
  const switches: [string, string[]][] = [
    ['drop=0.1', ['droppedRequests', 'droppedReplies']],
    ['delay=5ms±3ms', ['delayed']],
    ['dup=0.1', ['duplicated']],
    ['reorder=0.2', ['reordered']],
    ['bandwidth=500KB/s', ['throttled', 'throttledMs']],
  ];
  for (const [spec, acted] of switches) {
    reliabilityCase('network', `--chaos ${spec}: the exact output, and the switch acted`, async (ctx) => {
      const { out, json } = await wordcount(['--workers', '2', '--chaos', spec, '--chaos-seed', SEED]);
      await ctx.expectOutput(out, reference);
      expect(json.chaos).toMatchObject({ spec, seed: 27, nodes: 3 });
      for (const key of acted) expect(json.chaos[key], key).toBeGreaterThan(0);
      expect(json.chaos.messages).toBeGreaterThan(40); // the job's calls, heartbeats and status polls: fewer as the job gets faster
    }, { fast: true });
  }
});

// Rates high enough that each switch acts in a job of some hundred messages, low enough that
// no call runs out of retries.
const ALL = 'drop=0.1,delay=5ms±3ms,dup=0.1,reorder=0.1,bandwidth=1MB/s';

describe('every switch at once', () => {
  reliabilityCase('network', 'all switches on grpc, default seed, stderr says what chaos did', async (ctx) => {
    const out = join(dir, 'all-grpc');
    const result = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--reducers', '4', '--workers', '2',
      '--chaos', ALL]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^mr: chaos \(seed 1, 3 node\(s\)\): \d+ message\(s\), [1-9]\d* dropped/m);
    await ctx.expectOutput(out, reference);
  }, { fast: true });

  // The simulated machines carry their shuffle in memory (butterfly) or hop by hop over the links
  // (hypercube); neither they nor memory fail a call by themselves: the chaos layer brings the retries.
  const backends: [string, string[]][] = [
    ['memory', ['--workers', '2']],
    ['ssi', ['--nodes', '2']],
    ['hypercube', ['--nodes', '4']],
    ['butterfly', ['--nodes', '4']],
  ];
  for (const [transport, sizing] of backends) {
    reliabilityCase('network', `all switches on ${transport}`, async (ctx) => {
      const { out, json } = await wordcount(['--transport', transport, ...sizing, '--chaos', ALL, '--chaos-seed', SEED]);
      await ctx.expectOutput(out, reference);
      for (const key of ['messages', 'dropped', 'delayed', 'duplicated']) expect(json.chaos[key], key).toBeGreaterThan(0);
      const workers = json.processes.filter((p: { role: string }) => p.role === 'worker');
      expect(workers.every((p: { chaos?: { messages: number } }) => (p.chaos?.messages ?? 0) > 0)).toBe(true);
    }, { fast: true });
  }

  // The balancer's RunTask to a server meets the chaos layer too: a lost one fails over to another
  // server, which runs the same attempt again; one sent twice runs once on its server.
  reliabilityCase('network', 'all switches on horizontal: lost RunTasks fail over', async (ctx) => {
    const { out, json } = await wordcount(['--transport', 'horizontal', '--workers', '2', '--chaos', ALL, '--chaos-seed', SEED]);
    await ctx.expectOutput(out, reference);
    for (const key of ['dropped', 'delayed', 'duplicated']) expect(json.chaos[key], key).toBeGreaterThan(0);
    expect(json.backend.failovers).toBeGreaterThan(0);
    expect(json.processes.some((p: { role: string; chaos?: unknown }) => p.role === 'server' && p.chaos)).toBe(true);
  }, { fast: true });

  reliabilityCase('network', 'all switches at higher rates, three seeds, on grpc', async (ctx) => {
    for (const seed of ['101', '202', '303']) {
      const { out, json } = await wordcount(['--workers', '2', '--chaos', 'drop=0.15,delay=10ms±10ms,dup=0.15,reorder=0.2,bandwidth=2MB/s',
        '--chaos-seed', seed]);
      await ctx.expectOutput(out, reference);
      expect(json.chaos.dropped).toBeGreaterThan(0);
    }
  });
});

describe('the fallacies without a network switch of their own', () => {
  // The network is secure: an intruder's copies of the calls to the master, without the
  // cluster's token, must all be turned away, and the job must not notice them.
  reliabilityCase('network', 'intruder=0.3: every forged call is refused (UNAUTHENTICATED), none admitted', async (ctx) => {
    const { out, json, stderr } = await wordcount(['--workers', '2', '--chaos', 'intruder=0.3']);
    await ctx.expectOutput(out, reference);
    expect(json.chaos.intruders).toBeGreaterThan(5);
    expect(json.chaos.intrudersAdmitted).toBe(0);
    expect(stderr).toBe('');
  }, { fast: true });

  // The network is homogeneous: one worker's link is slow and narrow, the other's is not.
  reliabilityCase('network', 'one worker behind a slow, narrow link (delay and bandwidth @worker-1)', async (ctx) => {
    const { out, json } = await wordcount(['--workers', '2', '--chaos', 'delay=40ms±20ms@worker-1,bandwidth=300KB/s@worker-1']);
    await ctx.expectOutput(out, reference);
    expect(json.chaos.ownRates).toEqual({ 'worker-1': { delay: { ms: 40, jitterMs: 20 }, bandwidthBytesPerSec: 300e3 } });
    const workers = json.processes.filter((p: { role: string }) => p.role === 'worker').map((p: { chaos: { delayed: number } }) => p.chaos.delayed);
    expect(workers.filter((delayed: number) => delayed > 0)).toHaveLength(1); // worker-1's link only
    expect(json.processes.find((p: { role: string }) => p.role === 'master').chaos.delayed).toBe(0);
  }, { fast: true });

  // There is one administrator: another one restarts worker-1's machine mid-job, unannounced.
  reliabilityCase('network', 'restart=worker-1@2s: a worker killed mid-job by someone else is replaced; nothing lost', async (ctx) => {
    const { out, json } = await wordcount(['--workers', '2', '--chaos', 'restart=worker-1@2s'], join(FIXTURES, 'slow-reduce.ts'));
    await ctx.expectOutput(out, reference);
    expect(json.chaos.restarts).toEqual([{ node: 'worker-1', atMs: 2000 }]);
    expect(json.processes.filter((p: { role: string }) => p.role === 'worker').length).toBe(3); // worker-1 twice
    expect(json.elapsedMs).toBeGreaterThan(2000);
  }, { fast: true });
});

describe('partitions', () => {
  reliabilityCase('network', 'a worker holding map outputs is cut off mid-job', async (ctx) => {
    // A word count whose reduces take some 6 s, after maps that end about 2 s into the run: the
    // window falls in the reduce phase, while worker-1 holds map outputs and runs reduces.
    const { out, json } = await wordcount(['--workers', '2', '--chaos', 'partition=worker-1@3s-6s'], join(FIXTURES, 'slow-reduce.ts'));
    await ctx.expectOutput(out, reference);
    expect(json.chaos.partitions).toEqual([{ node: 'worker-1', fromMs: 3000, toMs: 6000 }]);
    expect(json.chaos.partitioned).toBeGreaterThan(0);
    // The job outlasted the window: elapsedMs counts from the submission, which comes a few hundred
    // milliseconds after mr run started the chaos clock.
    expect(json.elapsedMs).toBeGreaterThan(5000);
  }, { fast: true });

  reliabilityCase('network', 'a horizontal server is cut off mid-job: the balancer fails its tasks over', async (ctx) => {
    const { out, json } = await wordcount(['--transport', 'horizontal', '--workers', '2', '--chaos', 'partition=worker-1@2s-5s'],
      join(FIXTURES, 'slow-reduce.ts'));
    await ctx.expectOutput(out, reference);
    expect(json.chaos.partitioned).toBeGreaterThan(0);
    expect(json.elapsedMs).toBeGreaterThan(5000);
  });

  reliabilityCase('network', 'the master is cut off from every worker for longer than the lease', async (ctx) => {
    // A daemon master whose chaos clock starts with it: from 9 s to 13 s after its start it
    // refuses every call, four times its 1 s lease. The slow maps keep the job running across
    // the whole window; the workers' attempts lose their leases, and the job still ends exact.
    const cluster = await startCluster(join(dir, 'cut-master'), 2,
      ['--lease-ms', '1000', '--worker-timeout-ms', '1000', '--chaos', 'partition=master@9s-13s'], []);
    clusters.push(cluster);
    const out = join(dir, 'cut-master-out');
    const follower = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address,
      '--reducers', '4', '--split-mib', '0.25', '--set', 'lineMs=0.25']);
    const result = finished(follower);
    const [, jobId] = await stderrMatch(follower, /^job (\S+)$/m);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    await ctx.expectOutput(out, referenceLineLengthsMod7(inputFiles(BOOKS)));
    const { attempts } = JSON.parse((await runMr(['logs', jobId, '--json', '--master', cluster.address])).stdout);
    // Attempts that ran across the window lost their leases or had their reports refused, and ran again.
    const taken = attempts.filter((a: { state: string }) => ['lost', 'rejected', 'cancelled', 'failed'].includes(a.state));
    expect(taken.length, JSON.stringify(attempts.map((a: { state: string }) => a.state))).toBeGreaterThan(0);
    // The daemon master says what its chaos layer did: the calls it refused while cut off.
    const shown = JSON.parse((await runMr(['status', jobId, '--json', '--master', cluster.address])).stdout).jobs[0];
    expect(shown.chaos.partitioned).toBeGreaterThan(0);
    expect((await runMr(['status', jobId, '--master', cluster.address])).stdout)
      .toMatch(/^ {2}chaos \(1 process\(es\) under --chaos\): .*, [1-9]\d* refused while cut off/m);
  });

  reliabilityCase('network', 'a worker comes back on another port mid-job (topology change)', async (ctx) => {
    const cluster = await startCluster(join(dir, 'moved'), 2, ['--lease-ms', '2000', '--worker-timeout-ms', '1500']);
    clusters.push(cluster);
    const out = join(dir, 'moved-out');
    const follower = startMr(['run', join(FIXTURES, 'slow-reduce.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address,
      '--reducers', '4', '--split-mib', '0.5']);
    const result = finished(follower);
    const [, jobId] = await stderrMatch(follower, /^job (\S+)$/m);
    // Once the reduces run (every map output is on a worker), worker 0 goes away and a new worker
    // process takes its work dir, on a new port: its map outputs must be found again or rebuilt.
    await until('the reduce phase', async () => {
      const job = JSON.parse((await runMr(['status', jobId, '--json', '--master', cluster.address])).stdout).jobs[0];
      return job?.phase === 'reduce' ? true : undefined;
    }, 60_000, 100);
    const [first] = cluster.workers;
    const before = await workerAddresses(cluster.address, jobId);
    first!.kill('SIGKILL');
    await new Promise((resolve) => first!.once('exit', resolve));
    const moved = cluster.addWorker(join(dir, 'moved', 'worker-0'));
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    await ctx.expectOutput(out, reference);
    expect(moved.exitCode).toBeNull();
    const after = await workerAddresses(cluster.address, jobId);
    expect(after.filter((a) => !before.includes(a)).length, `workers before ${before}, after ${after}`).toBeGreaterThan(0);
  });
});

describe('bad chaos options', () => {
  const usage = async (extra: string[], message: RegExp) => {
    const result = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, `bad-${runs++}`), ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  };
  reliabilityCase('network', 'bad --chaos options are one-line usage errors', async () => {
    await usage(['--chaos', 'drop=2'], /^mr: --chaos drop=2: wants a probability/);
    await usage(['--chaos', 'jitter=5ms'], /unknown switch jitter/);
    await usage(['--chaos-seed', '3'], /--chaos-seed applies with --chaos/);
    await usage(['--chaos', 'drop=0.1', '--chaos-seed', '-1'], /--chaos-seed must be a whole number/);
    await usage(['--workers', '2', '--chaos', 'partition=worker-2@1s-2s'], /no node worker-2; its nodes are master and worker-0 to worker-1/);
    await usage(['--master', '127.0.0.1:1', '--chaos', 'drop=0.1'], /give it to mr master and mr worker/);
    await usage(['--workers', '2', '--chaos', 'delay=5ms@worker-3'], /this run has no node worker-3/);
    await usage(['--chaos', 'restart=master@2s'], /the master is mr run itself/);
    await usage(['--transport', 'butterfly', '--chaos', 'restart=worker-1@2s'], /restart needs worker processes/);
  }, { fast: true });
});

/** The address of every worker the master knows alive (from `mr status <job>`). */
async function workerAddresses(master: string, jobId: string): Promise<string[]> {
  const { stdout } = await runMr(['status', jobId, '--master', master]);
  return [...stdout.matchAll(/^ {2}worker \S+ (\S+) alive/gm)].map((m) => m[1]!);
}
