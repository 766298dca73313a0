// The hypercube's endpoints: calls and streams over packets, flow control by credit, cancel,
// errors that keep their kind, and the clock the messages drive. Two endpoints wired back to back.
import { describe, expect, it } from 'vitest';
import { Endpoint, type AnswerTimes, type SimClock } from '../../src/backends/hypercube/endpoint.ts';
import { FLAG, Kind, decodePacket } from '../../src/backends/hypercube/packet.ts';
import { TransportUnavailableError, UsageError } from '../../src/errors.ts';

function clock(start = 0): SimClock & { us: number } {
  const c = { us: start, now: () => c.us, reach: (us: number) => void (c.us = Math.max(c.us, us)) };
  return c;
}

/** Client node 1 and server node 0; every packet is decoded on the other side a turn later, and seen by `tap`. */
function pair(tap: (kind: Kind, from: number) => void = () => {}, answers?: AnswerTimes) {
  let client!: Endpoint;
  let server!: Endpoint;
  const wire = (to: () => Endpoint) => (bytes: Uint8Array) => {
    const packet = decodePacket(bytes);
    tap(packet.kind, packet.src);
    setImmediate(() => to().receive(packet));
  };
  client = new Endpoint(1, wire(() => server), clock());
  server = new Endpoint(0, wire(() => client), clock(), answers);
  return { client, server };
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

  it("a reply leaves at its request's time, or when the server's answer times say; errors keep their kind; an unknown method is an unavailable node", async () => {
    const plain = pair();
    plain.server.clock.reach(900);
    plain.server.serve({ echo: async (payload) => payload });
    expect([...await plain.client.call(0, 'echo', Uint8Array.of(7), 0)]).toEqual([7]);
    expect(plain.client.clock.now()).toBe(0);   // served beside the server's own work: not at its time
    const taken: string[] = [];
    const { client, server } = pair(undefined, {
      taken: (request) => void taken.push(request.method),
      answerAt: (request, reply) => (reply?.[0] === 7 ? 500 : request.timeUs),
    });
    server.serve({ echo: async (payload) => payload, bad: async () => { throw new UsageError('no such job'); } });
    expect([...await client.call(0, 'echo', Uint8Array.of(7), 0)]).toEqual([7]);
    expect(client.clock.now()).toBe(500);   // it received a reply stamped when the answer times said
    expect(taken).toEqual(['echo']);
    await expect(client.call(0, 'bad', new Uint8Array(0), 0)).rejects.toThrow(UsageError);
    await expect(client.call(0, 'nope', new Uint8Array(0), 0)).rejects.toThrow(TransportUnavailableError);
  });

  it('a call with no reply by its deadline is an unavailable node', async () => {
    const { client, server } = pair();
    server.serve({ never: () => new Promise<Uint8Array>(() => {}) });
    await expect(client.call(0, 'never', new Uint8Array(0), 0, new Date(Date.now() + 30))).rejects.toThrow(/no reply from node 0 to never/);
  });
});
