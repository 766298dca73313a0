// The horizontal backend's balancer against real gRPC worker servers on free ports: least
// outstanding, fail-over when a server process dies mid-request, health, join and leave, tokens.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/backends/horizontal/balancer/balancer.ts';
import { balancerService } from '../../src/backends/horizontal/balancer/balancer-proto.ts';
import { connectBalancer, type BalancerClient } from '../../src/backends/horizontal/balancer/balancer-client.ts';
import { AuthError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { bearer } from '../../src/wires/grpc/token.ts';
import type { RunTaskRequest, Task } from '../../src/wires/messages.ts';
import { startFakeWorker, type FakeWorker } from '../fixtures/fake-worker-server.ts';
import { FIXTURES, ROOT } from '../helpers/run-mr.ts';

const HEALTH_MS = 100;
const DEADLINE_MS = 20_000;

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

let attempts = 0;
function request(options: Record<string, string> = {}): RunTaskRequest & { task: Task } {
  const attemptId = `a${++attempts}`;
  return {
    masterAddress: '127.0.0.1:1', workerId: 'dispatcher', sharedDir: '/tmp/shared',
    task: {
      jobId: 'job', stage: 1, kind: 'map', taskIndex: attempts, attemptId, mapOutputs: [], splits: [], resume: null,
      spec: { jobPath: '/jobs/x.ts', inputFiles: [], outputDir: '/out', reducers: 1, inputMode: 'lines', options, splitBytes: 0, sortBufferBytes: 0, maxAttempts: 3, speculation: false, parallelism: 0, jobHash: '', noPacking: false, checkpointMs: 0 },
    },
  };
}

async function fakeWorkers(...ids: string[]): Promise<FakeWorker[]> {
  const workers = await Promise.all(ids.map((id) => startFakeWorker(id)));
  for (const w of workers) cleanups.push(() => w.stop());
  return workers;
}

async function startBalancer(backends: string[], token?: string): Promise<{ balancer: Balancer; client: BalancerClient; address: string }> {
  const balancer = new Balancer({ backends, token, healthIntervalMs: HEALTH_MS, log: silentLogger });
  const address = await balancer.start('127.0.0.1:0');
  const client = connectBalancer(address, token);
  cleanups.push(() => balancer.stop(), () => client.close());
  return { balancer, client, address };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const healthy = (balancer: Balancer, address: string) => balancer.servers().some((s) => s.address === address && s.healthy);
const countBy = (ids: string[]) => ids.reduce<Record<string, number>>((n, id) => ({ ...n, [id]: (n[id] ?? 0) + 1 }), {});

/** A fake worker in its own process, so that it can be SIGKILLed with a request in flight. */
async function childWorker(id: string): Promise<{ child: ChildProcess; address: string; requests: string[] }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'tsx.mjs'), join(FIXTURES, 'fake-worker-server.ts'), id], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  const requests: string[] = [];
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word === 'fake-worker') resolve(value);
      if (word === 'request') requests.push(value);
    });
    child.once('exit', (code) => reject(new Error(`fake worker exited with ${code}`)));
  });
  return { child, address, requests };
}

describe('balancer', () => {
  it('spreads concurrent requests by fewest outstanding', async () => {
    const [a, b] = await fakeWorkers('A', 'B');
    const { balancer, client } = await startBalancer([a.address, b.address]);
    await until('both servers healthy', () => healthy(balancer, a.address) && healthy(balancer, b.address));
    const pending = Array.from({ length: 4 }, () => client.runTask(request({ delayMs: '400' }), DEADLINE_MS));
    await until('4 requests in flight', () => a.inFlight + b.inFlight === 4);
    expect((await client.listServers()).servers.map((s) => s.outstanding)).toEqual([2, 2]);
    const replies = await Promise.all(pending);
    expect(countBy(replies.map((r) => r.workerId))).toEqual({ A: 2, B: 2 });
    expect([a.received.length, b.received.length]).toEqual([2, 2]);
    const list = await client.listServers();
    expect(list.failovers).toBe(0);
    expect(list.servers).toEqual([
      { address: a.address, healthy: true, outstanding: 0, served: 2, failed: 0, leaving: false, slots: 0 },   // given with --backends: no limit
      { address: b.address, healthy: true, outstanding: 0, served: 2, failed: 0, leaving: false, slots: 0 },
    ]);
  });

  it('holds what no server has a free slot for, and gives it to a server that joins', async () => {
    const [a, b] = await fakeWorkers('A', 'B');
    const { balancer, client } = await startBalancer([]);
    await client.join(a.address, 1);
    const pending = Array.from({ length: 3 }, () => client.runTask(request({ delayMs: '600' }), DEADLINE_MS));
    await until('one request at A, two waiting', () => a.inFlight === 1 && balancer.queued === 2);
    expect((await client.listServers()).queued).toBe(2);
    await client.join(b.address, 1);
    await until('B took one of those waiting', () => b.inFlight === 1 && balancer.queued === 1);
    const replies = await Promise.all(pending);
    expect(countBy(replies.map((r) => r.workerId))).toEqual({ A: 2, B: 1 });
    expect(balancer.queued).toBe(0);
  });

  it('moves a request to another server when its server is killed mid-request', async () => {
    const doomed = await childWorker('doomed');
    const [b] = await fakeWorkers('B');
    const { balancer, client } = await startBalancer([doomed.address, b.address]);
    await until('both servers healthy', () => healthy(balancer, doomed.address) && healthy(balancer, b.address), 10_000);
    const req = request({ 'delayMs:doomed': '30000' });
    const pending = client.runTask(req, DEADLINE_MS);
    await until('the request reached the doomed server', () => doomed.requests.length === 1);
    doomed.child.kill('SIGKILL');
    const reply = await pending;
    expect(reply).toMatchObject({ workerId: 'B', attemptId: req.task.attemptId, ok: true });
    expect(b.received).toEqual([req.task.attemptId]);
    expect(balancer.failovers).toBe(1);
    const list = await client.listServers();
    expect(list.failovers).toBe(1);
    expect(list.servers.find((s) => s.address === doomed.address)).toMatchObject({ healthy: false, failed: 1, outstanding: 0 });
    // Dead, it stays out: the next requests all go to B.
    await Promise.all([client.runTask(request(), DEADLINE_MS), client.runTask(request(), DEADLINE_MS)]);
    expect(b.received.length).toBe(3);
  });

  it('moves a request on when its server force-shuts down mid-request (CANCELLED)', async () => {
    const [a, b] = await fakeWorkers('A', 'B');
    const { balancer, client } = await startBalancer([a.address, b.address]);
    await until('both servers healthy', () => healthy(balancer, a.address) && healthy(balancer, b.address));
    const pending = client.runTask(request({ 'delayMs:A': '30000' }), DEADLINE_MS);
    await until('the request reached A', () => a.inFlight === 1);
    a.stop();
    expect((await pending).workerId).toBe('B');
    expect(balancer.failovers).toBe(1);
  });

  it('passes application errors through without fail-over', async () => {
    const [a, b] = await fakeWorkers('A', 'B');
    const { balancer, client } = await startBalancer([a.address, b.address]);
    await until('both servers healthy', () => healthy(balancer, a.address) && healthy(balancer, b.address));
    const error = await client.runTask(request({ fail: 'on purpose' }), DEADLINE_MS).catch((e) => e);
    expect(error).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: 'task failed on A: on purpose' });
    expect(a.received.length + b.received.length).toBe(1);
    expect(balancer.failovers).toBe(0);
    expect(balancer.servers().every((s) => s.healthy && s.failed === 0)).toBe(true);
  });

  it('sends nothing to a server whose health is NOT_SERVING, and uses it again once SERVING', async () => {
    const [a, b] = await fakeWorkers('A', 'B');
    const { balancer, client } = await startBalancer([a.address, b.address]);
    await until('both servers healthy', () => healthy(balancer, a.address) && healthy(balancer, b.address));
    b.setServing(false);
    await until('B taken out', () => !healthy(balancer, b.address));
    const out = await Promise.all(Array.from({ length: 4 }, () => client.runTask(request({ delayMs: '100' }), DEADLINE_MS)));
    expect(out.map((r) => r.workerId)).toEqual(['A', 'A', 'A', 'A']);
    expect(b.received).toEqual([]);
    b.setServing(true);
    await until('B put back', () => healthy(balancer, b.address));
    const back = await Promise.all(Array.from({ length: 4 }, () => client.runTask(request({ delayMs: '100' }), DEADLINE_MS)));
    expect(countBy(back.map((r) => r.workerId))).toEqual({ A: 2, B: 2 });
  });

  it('waits for a healthy server, up to the deadline', async () => {
    const [a] = await fakeWorkers('A');
    const { balancer, client } = await startBalancer([a.address]);
    await until('A healthy', () => healthy(balancer, a.address));
    a.setServing(false);
    await until('A taken out', () => !healthy(balancer, a.address));
    const pending = client.runTask(request(), DEADLINE_MS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.received).toEqual([]);
    a.setServing(true);
    expect((await pending).workerId).toBe('A');
    a.setServing(false);
    await until('A taken out again', () => !healthy(balancer, a.address));
    const error = await client.runTask(request(), 500).catch((e) => e);
    expect(error).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  });

  it('gives work to a server that joins; a leaving server finishes its request and gets no more', async () => {
    const [a, b] = await fakeWorkers('A', 'B');
    const { balancer, client } = await startBalancer([a.address]);
    await until('A healthy', () => healthy(balancer, a.address));
    expect(await client.join(b.address)).toBe(true);
    expect(await client.join(b.address)).toBe(true);     // idempotent
    expect(healthy(balancer, b.address)).toBe(true);     // Join answers after the first probe
    const slow = [client.runTask(request({ delayMs: '800' }), DEADLINE_MS), client.runTask(request({ delayMs: '800' }), DEADLINE_MS)];
    await until('one request on each', () => a.inFlight === 1 && b.inFlight === 1);
    expect(await client.leave(b.address)).toBe(true);
    expect((await client.listServers()).servers.find((s) => s.address === b.address)).toMatchObject({ leaving: true, outstanding: 1 });
    const quick = await Promise.all(Array.from({ length: 3 }, () => client.runTask(request(), DEADLINE_MS)));
    expect(quick.map((r) => r.workerId)).toEqual(['A', 'A', 'A']);
    expect(countBy((await Promise.all(slow)).map((r) => r.workerId))).toEqual({ A: 1, B: 1 });
    expect(b.received.length).toBe(1);
    expect((await client.listServers()).servers.map((s) => s.address)).toEqual([a.address]);
    expect(await client.leave(b.address)).toBe(false);   // already gone
    // Joining again brings it back.
    expect(await client.join(b.address)).toBe(true);
    const again = await Promise.all([client.runTask(request({ delayMs: '200' }), DEADLINE_MS), client.runTask(request({ delayMs: '200' }), DEADLINE_MS)]);
    expect(countBy(again.map((r) => r.workerId))).toEqual({ A: 1, B: 1 });
  });

  it('refuses a Join that is not host:port', async () => {
    const { client } = await startBalancer([]);
    await expect(client.join('nowhere')).rejects.toThrow(/not host:port/);
  });

  it('answers UNAUTHENTICATED to a wrong or missing token', async () => {
    const [a] = await fakeWorkers('A');
    const { balancer, client, address } = await startBalancer([a.address], 'right-secret');
    await until('A healthy', () => healthy(balancer, a.address));
    expect((await client.runTask(request(), DEADLINE_MS)).workerId).toBe('A');
    for (const token of ['wrong-secret', undefined]) {
      const bad = connectBalancer(address, token);
      cleanups.push(() => bad.close());
      await expect(bad.runTask(request(), DEADLINE_MS)).rejects.toBeInstanceOf(AuthError);
      await expect(bad.listServers()).rejects.toBeInstanceOf(AuthError);
      await expect(bad.join(a.address)).rejects.toBeInstanceOf(AuthError);
    }
    // The status itself, as any gRPC client sees it.
    const raw = new (balancerService())(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, Function>;
    cleanups.push(() => raw.close());
    const code = await new Promise((resolve) => raw.ListServers({}, bearer('wrong-secret'), (error: grpc.ServiceError | null) => resolve(error?.code)));
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
    expect(a.received.length).toBe(1);
  });
});
