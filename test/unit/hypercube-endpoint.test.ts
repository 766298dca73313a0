// The hypercube's endpoints: calls and streams over packets, flow control by credit, cancel,
// errors that keep their kind, and what each message follows on the simulated clock. Two
// endpoints wired back to back.
import { describe, expect, it } from 'vitest';
import { Endpoint, type AnswerTimes, type Timing } from '../../src/backends/hypercube/endpoint.ts';
import { FLAG, Kind, decodePacket, type Packet } from '../../src/backends/hypercube/packet.ts';
import { messageId } from '../../src/backends/hypercube/timeline.ts';
import { TransportUnavailableError, UsageError } from '../../src/errors.ts';

interface Sent {
  packet: Packet;
  id: number;
  timing?: Timing;
}

/** Client node 1 and server node 0; every packet is decoded on the other side a turn later, and seen by `tap`. */
function pair(tap: (kind: Kind, from: number) => void = () => {}, answers?: AnswerTimes) {
  let client!: Endpoint;
  let server!: Endpoint;
  const sent: Sent[] = [];
  const told: unknown[] = [];
  const wire = (to: () => Endpoint) => (bytes: Uint8Array, timing?: Timing) => {
    const packet = decodePacket(bytes);
    sent.push({ packet, id: messageId(packet.src, packet.seq), timing });
    tap(packet.kind, packet.src);
    setImmediate(() => to().receive(packet));
  };
  client = new Endpoint(1, { send: wire(() => server), blocked: (on) => told.push({ blocked: on }), open: (ready) => told.push({ open: ready }) });
  server = new Endpoint(0, { send: wire(() => client), answered: (request) => told.push({ answered: request }) }, answers);
  return { client, server, sent, told };
}

describe('hypercube endpoints', () => {
  it('a stream never runs more than 8 chunks ahead of what its caller took, and every chunk arrives in order', async () => {
    let ahead = 0;
    let most = 0;
    const { client, server } = pair((kind, from) => {
      if (kind === Kind.Chunk && from === 0) most = Math.max(most, ++ahead);
    });
    server.serve({}, {
      async *chunks() {
        for (let i = 0; i < 50; i++) yield Uint8Array.of(i);
      },
    });
    const got: number[] = [];
    for await (const chunk of client.stream(0, 'chunks', new Uint8Array(0), FLAG.shuffle)) {
      got.push(chunk[0]);
      ahead--;
      await new Promise((resolve) => setTimeout(resolve, 1));   // a slow reader
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(8);
    expect(most).toBeGreaterThan(1);
  });

  it('leaving a stream early stops its server', async () => {
    const { client, server } = pair();
    let produced = 0;
    server.serve({}, {
      async *chunks() {
        for (let i = 0; i < 1000; i++) {
          produced++;
          yield Uint8Array.of(i % 256);
        }
      },
    });
    for await (const chunk of client.stream(0, 'chunks', new Uint8Array(0), 0)) if (chunk[0] === 2) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(produced).toBeLessThan(20);
  });

  it('a worker\'s call to the master waits; its answer follows the request and what the server adds; errors keep their kind', async () => {
    const taken: number[] = [];
    const { client, server, sent, told } = pair(undefined, {
      taken: (_request, id) => void taken.push(id),
      answerAfter: (_request, reply) => (reply?.[0] === 7 ? [12345] : []),
    });
    server.serve({ echo: async (payload) => payload, bad: async () => { throw new UsageError('no such job'); } });
    expect([...await client.call(0, 'echo', Uint8Array.of(7), FLAG.toMaster)]).toEqual([7]);
    const [request, reply] = sent;
    expect(request.timing).toEqual({ ready: { after: [], plusUs: 0 }, order: [1, 1], request: true });
    expect(told).toEqual([{ blocked: request.id }]);
    expect(taken).toEqual([request.id]);
    expect(reply.timing).toEqual({ ready: { after: [request.id, 12345], plusUs: 0 }, order: [1, 1, 1], request: false, answers: { request: request.id, last: true } });
    // The next call follows that answer, and the computation it says.
    await client.call(0, 'echo', Uint8Array.of(8), FLAG.toMaster, { plusUs: 40 });
    expect(sent[2].timing?.ready).toEqual({ after: [reply.id], plusUs: 40 });
    await expect(client.call(0, 'bad', new Uint8Array(0), FLAG.toMaster)).rejects.toThrow(UsageError);
    await expect(client.call(0, 'nope', new Uint8Array(0), FLAG.toMaster)).rejects.toThrow(TransportUnavailableError);
    // A heartbeat is outside the clock, and so is its answer.
    const before = sent.length;
    await client.call(0, 'echo', Uint8Array.of(1), FLAG.toMaster | FLAG.untimed);
    expect(sent.slice(before).map((s) => s.timing)).toEqual([undefined, undefined]);
  });

  it('a fetch follows the task it is for; its chunks follow it; a credit follows its chunk; the report follows all of them', async () => {
    const { client, server, sent } = pair();
    server.serve({ task: async () => Uint8Array.of(1) }, {
      async *chunks() {
        for (let i = 0; i < 4; i++) yield Uint8Array.of(i);
      },
    });
    await client.call(0, 'task', new Uint8Array(0), FLAG.toMaster);
    const task = sent[1];
    sent.length = 0;
    for await (const _ of client.stream(0, 'chunks', new Uint8Array(0), FLAG.shuffle)) { /* take them all */ }
    const [fetch, ...answers] = sent.filter((s) => s.packet.kind !== Kind.Credit);
    const credit = sent.find((s) => s.packet.kind === Kind.Credit)!;
    expect(fetch.timing).toEqual({ ready: { after: [task.id], plusUs: 0 }, order: [1, 2], request: true });
    expect(answers.map((a) => a.timing)).toEqual([1, 2, 3, 4, 5].map((i) => ({
      ready: { after: [fetch.id], plusUs: 0 }, order: [1, 2, i], request: false, answers: { request: fetch.id, last: i === 5 },
    })));
    expect(credit.timing?.ready).toEqual({ after: [answers[3].id], plusUs: 0 });
    await client.call(0, 'task', new Uint8Array(0), FLAG.toMaster, { plusUs: 9 });
    expect(sent.at(-2)!.timing!.ready).toEqual({ after: [task.id, ...answers.map((a) => a.id)], plusUs: 9 });
  });

  it('a call with no reply by its deadline is an unavailable node, and the worker goes on after its request', async () => {
    const { client, server, sent, told } = pair();
    server.serve({ never: () => new Promise<Uint8Array>(() => {}) });
    await expect(client.call(0, 'never', new Uint8Array(0), FLAG.toMaster, { deadline: new Date(Date.now() + 30) })).rejects.toThrow(/no reply from node 0 to never/);
    expect(told).toEqual([{ blocked: sent[0].id }, { open: { after: [sent[0].id], plusUs: 0 } }]);
  });

  it('a server that stops a stream early says it will answer no more', async () => {
    const { client, server, sent, told } = pair();
    server.serve({}, {
      async *chunks() {
        for (let i = 0; i < 1000; i++) yield Uint8Array.of(i % 256);
      },
    });
    for await (const chunk of client.stream(0, 'chunks', new Uint8Array(0), 0)) if (chunk[0] === 2) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(told).toEqual([{ answered: sent[0].id }]);
    expect(sent.find((s) => s.packet.kind === Kind.Cancel)?.timing).toBeUndefined();
  });
});
