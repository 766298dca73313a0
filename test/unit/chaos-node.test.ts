// One node's chaos layer on calls that never leave the test: what it loses (before or after the
// server acts), doubles, reorders, throttles and refuses, and that a client under the retry policy
// gets every answer through it.
import { describe, expect, it } from 'vitest';
import { callFate } from '../../src/wires/chaos/chaos-fate.ts';
import { ChaosFault, ChaosNode, type ChaosSettings } from '../../src/wires/chaos/chaos-node.ts';
import { RandomStreams } from '../../src/wires/chaos/chaos-random.ts';
import { chaosMasterService } from '../../src/wires/chaos/chaos-services.ts';
import { parseChaosSpec } from '../../src/wires/chaos/chaos-spec.ts';
import { MASTER_METHODS, type MasterClient, type MasterService } from '../../src/wires/transport.ts';
import { createMemoryWire } from '../../src/wires/memory/memory-wire.ts';
import { transportOver } from '../../src/wires/over-wire.ts';
import { isUnavailable } from '../../src/wires/unavailable.ts';

const settings = (text: string, seed = 1): ChaosSettings => ({ text, spec: parseChaosSpec(text), seed, epochMs: 0 });
const STATUS = { jobId: 'j' };

/** A master whose every method answers with reply(). */
function fakeMaster(reply: () => unknown): MasterService & MasterClient {
  return { ...Object.fromEntries(MASTER_METHODS.map((method) => [method, async () => reply()])), close() {} } as unknown as MasterService & MasterClient;
}

async function outcome<T>(call: Promise<T>): Promise<T | Error> {
  return call.catch((error: Error) => error);
}

describe('ChaosNode.unary', () => {
  it('loses requests before the server sees them and replies after it acted, as UNAVAILABLE', async () => {
    const node = new ChaosNode(settings('drop=0.3'), 'worker-0');
    let served = 0;
    const kinds = { ok: 0, requestLost: 0, replyLost: 0 };
    for (let i = 0; i < 200; i++) {
      const before = served;
      const result = await outcome(node.unary('Master', 'getJobStatus', STATUS, async () => ++served));
      if (!(result instanceof Error)) kinds.ok++;
      else {
        expect(result).toBeInstanceOf(ChaosFault);
        expect(isUnavailable(result)).toBe(true);
        expect((result as ChaosFault).code).toBe(14);
        if (served === before) kinds.requestLost++;
        else kinds.replyLost++;
      }
    }
    expect(kinds.requestLost).toBeGreaterThan(30);
    expect(kinds.replyLost).toBeGreaterThan(20);
    expect(node.counts.droppedRequests).toBe(kinds.requestLost);
    expect(node.counts.droppedReplies).toBe(kinds.replyLost);
  });

  it('meets the same fates with the same seed', async () => {
    const run = async () => {
      const node = new ChaosNode(settings('drop=0.3', 5), 'worker-0');
      const results: string[] = [];
      for (let i = 0; i < 40; i++) results.push(String(await outcome(node.unary('Master', 'heartbeat', {}, async () => 'ok'))));
      return results;
    };
    expect(await run()).toEqual(await run());
  });

  it('delivers a duplicated request twice and hands back one reply', async () => {
    const node = new ChaosNode(settings('dup=0.5'), 'worker-0');
    let served = 0;
    const replies: number[] = [];
    for (let i = 0; i < 20; i++) replies.push(await node.unary('Master', 'heartbeat', {}, async () => ++served));
    await new Promise((resolve) => setTimeout(resolve, 80)); // the last duplicates' lag
    expect(node.counts.duplicated).toBeGreaterThan(3);
    expect(served).toBe(20 + node.counts.duplicated);
    expect(replies).toHaveLength(20);
  });

  it('holds a request back until a later one has overtaken it', async () => {
    const spec = parseChaosSpec('reorder=0.5');
    const seed = [...Array(200).keys()].find((s) => {
      const streams = new RandomStreams(s, 'worker-0');
      return callFate(spec, streams.stream('heartbeat')).request.reordered && !callFate(spec, streams.stream('reportAttempt')).request.reordered;
    })!;
    const node = new ChaosNode({ ...settings('reorder=0.5'), seed }, 'worker-0');
    const sent: string[] = [];
    const first = node.unary('Master', 'heartbeat', {}, async () => sent.push('heartbeat'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = node.unary('Master', 'reportAttempt', {}, async () => sent.push('reportAttempt'));
    await Promise.all([first, second]);
    expect(sent).toEqual(['reportAttempt', 'heartbeat']);
    expect(node.counts.reordered).toBe(1);
  });

  it('delays messages by the delay and its jitter', async () => {
    const node = new ChaosNode(settings('delay=30ms±5ms'), 'worker-0');
    const start = performance.now();
    await node.unary('Master', 'heartbeat', {}, async () => 'ok');
    expect(performance.now() - start).toBeGreaterThanOrEqual(48); // a request and a reply, 25 ms each at least
    expect(node.counts.delayed).toBe(2);
  });

  it('refuses every call of a node inside its partition window, and none outside', async () => {
    let now = 500;
    const node = new ChaosNode(settings('partition=worker-1@1s-2s'), 'worker-1', () => now);
    expect(await node.unary('Master', 'heartbeat', {}, async () => 'ok')).toBe('ok');
    now = 1500;
    const refused = await outcome(node.unary('Master', 'heartbeat', {}, async () => 'ok'));
    expect(refused).toBeInstanceOf(ChaosFault);
    expect((refused as Error).message).toMatch(/worker-1 is cut off from the network \(1s-2s\)/);
    now = 2000;
    expect(await node.unary('Master', 'heartbeat', {}, async () => 'ok')).toBe('ok');
    expect(node.counts.partitioned).toBe(1);
  });
});

describe('ChaosNode.stream', () => {
  const chunks = (n: number, bytes: number) => async function* () {
    for (let i = 0; i < n; i++) yield Buffer.alloc(bytes, i);
  };

  it('throttles the chunks to the bandwidth', async () => {
    // A clock that stands still: the bucket refills only by the waits the layer itself imposes,
    // however slowly this machine runs the loop (a real clock would refill it while we are late).
    const node = new ChaosNode(settings('bandwidth=1MB/s'), 'worker-0', () => 0);
    const start = performance.now();
    let bytes = 0;
    for await (const chunk of node.stream('Worker', 'fetchPartition', { outputId: 'o', partition: 0 }, chunks(4, 50_000))) bytes += chunk.length;
    expect(bytes).toBe(200_000);
    expect(performance.now() - start).toBeGreaterThanOrEqual(140); // 200 KB at 1 MB/s, less the 50 KB burst
    expect(node.counts.throttled).toBeGreaterThan(0);
    expect(node.counts.throttledMs).toBeGreaterThanOrEqual(140);
  });

  it('breaks a stream off when a chunk is lost, after the chunks before it', async () => {
    const node = new ChaosNode(settings('drop=0.2', 3), 'worker-0');
    let broken = 0;
    let partial = 0;
    for (let i = 0; i < 50; i++) {
      let got = 0;
      try {
        for await (const _chunk of node.stream('Worker', 'fetchPartition', { outputId: 'o', partition: 0 }, chunks(5, 10))) got++;
      } catch (error) {
        expect(isUnavailable(error)).toBe(true);
        broken++;
        if (got > 0) partial++;
      }
    }
    expect(broken).toBeGreaterThan(10);
    expect(partial).toBeGreaterThan(0);
  });
});

describe('in-process services and clients under chaos', () => {
  it('a served master refuses calls while it is cut off, as UNAVAILABLE', async () => {
    let now = 0;
    const node = new ChaosNode(settings('partition=master@1s-2s'), 'master', () => now);
    const service = chaosMasterService(fakeMaster(() => STATUS), node);
    expect(await service.getJobStatus({ jobId: 'j' })).toEqual(STATUS);
    now = 1000;
    const refused = await outcome(service.getJobStatus({ jobId: 'j' }));
    expect(isUnavailable(refused)).toBe(true);
  });

  it('a client retries what the chaos layer loses, and gets every reply', async () => {
    const node = new ChaosNode(settings('drop=0.2', 2), 'worker-0');
    let served = 0;
    const server = await transportOver(createMemoryWire()).serveMaster(fakeMaster(() => ({ jobId: String(++served) })), '');
    const client = transportOver(createMemoryWire(), node).connectMaster(server.address);
    for (let i = 0; i < 15; i++) expect((await client.getJobStatus({ jobId: 'j' })).jobId).toMatch(/^\d+$/);
    await server.stop();
    expect(node.counts.droppedRequests + node.counts.droppedReplies).toBeGreaterThan(0);
    expect(served).toBe(15 + node.counts.droppedReplies); // a lost reply's request was served, then asked again
  });
});

describe('intruder=P', () => {
  it('sends forged copies of about P of the calls; a refused one is not admitted, an answered one is', async () => {
    const refusing = new ChaosNode(settings('intruder=0.25'), 'worker-0');
    let forged = 0;
    const refuse = async () => {
      forged++;
      throw Object.assign(new Error('missing or wrong token'), { code: 16 }); // UNAUTHENTICATED
    };
    for (let i = 0; i < 400; i++) await refusing.unary('Master', 'getJobStatus', STATUS, async () => 'ok', refuse);
    await new Promise((resolve) => setImmediate(resolve));
    expect(refusing.counts.intruders).toBe(forged);
    expect(forged).toBeGreaterThan(60);
    expect(forged).toBeLessThan(140);
    expect(refusing.counts.intrudersAdmitted).toBe(0);

    const trusting = new ChaosNode(settings('intruder=0.25'), 'worker-0');
    for (let i = 0; i < 400; i++) await trusting.unary('Master', 'getJobStatus', STATUS, async () => 'ok', async () => 'served');
    await new Promise((resolve) => setImmediate(resolve));
    expect(trusting.counts.intrudersAdmitted).toBe(trusting.counts.intruders);
    expect(trusting.counts.intruders).toBe(forged); // the same seed, node and method: the same fates
  });

  it('does nothing where the transport cannot forge a call', async () => {
    const node = new ChaosNode(settings('intruder=0.5'), 'worker-0');
    for (let i = 0; i < 50; i++) await node.unary('Master', 'getJobStatus', STATUS, async () => 'ok');
    expect(node.counts.intruders).toBe(0);
  });
});

describe('rates of one node', () => {
  it('apply to that node only', async () => {
    const text = 'drop=0.5@worker-1';
    const calm = new ChaosNode(settings(text), 'worker-0');
    const lossy = new ChaosNode(settings(text), 'worker-1');
    const lost = async (node: ChaosNode) => {
      let n = 0;
      for (let i = 0; i < 100; i++) if ((await outcome(node.unary('Master', 'getJobStatus', STATUS, async () => 'ok'))) instanceof Error) n++;
      return n;
    };
    expect(await lost(calm)).toBe(0);
    expect(await lost(lossy)).toBeGreaterThan(50);
  });
});
