// The hypercube's timeline: hops timed in simulated-time order, the same whatever order the node
// threads report them in, and never ahead of what a node still to be heard of could send.
import { describe, expect, it } from 'vitest';
import { ecubeRoute } from '../../src/backends/hypercube/topology.ts';
import { Timeline, messageId, type SentMessage } from '../../src/backends/hypercube/timeline.ts';
import type { LinkModel } from '../../src/backends/hypercube/link-model.ts';

// 100 bytes at 1e8 B/s take 1 us; 1 us of latency a hop.
const MODEL: LinkModel = { switching: 'store-and-forward', latencyUs: 1, bandwidthBytesPerSec: 1e8, hopUs: 0 };

function message(src: number, seq: number, dst: number, bytes: number, after: number[] = [], plusUs = 0, more: Partial<SentMessage> = {}): SentMessage {
  return { id: messageId(src, seq), src, dst, bytes, shuffle: false, order: [src, seq], ready: { after, plusUs }, request: false, ...more };
}

/** Sends m from its source, passed on by every router of its route. */
function carry(timeline: Timeline, m: SentMessage, d: number): void {
  timeline.sent(m);
  for (const node of ecubeRoute(m.src, m.dst, d).slice(0, -1)) timeline.passed(m.id, node, true);
}

function idle(timeline: Timeline, nodes: number): void {
  for (let node = 0; node < nodes; node++) timeline.blocked(node);
}

describe('hypercube timeline', () => {
  it('makes a message wait for the link, earliest first, whichever order the routers report them in', () => {
    const a = message(0, 1, 1, 1000);               // 10 us on the link 0 -> 1 from 0
    const b = message(2, 1, 1, 100);                // 2 -> 3 -> 1: links of its own
    const c = message(0, 2, 1, 100, [], 5);         // ready at 5 on a's link: waits for it
    const results = [[a, b, c], [c, b, a], [b, c, a]].map((order) => {
      const t = new Timeline(4, 2, MODEL);          // every node may send from 0 until it says it waits
      for (const m of order) carry(t, m, 2);
      expect(t.reachedUs(a.id)).toBeUndefined();
      idle(t, 4);
      return [a, b, c].map((m) => t.reachedUs(m.id));
    });
    expect(results[0]).toEqual([11, 4, 12]);        // a: 10 + 1; c: from 10, 1 + 1
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('times nothing a working node could still come before, and catches up once it waits', () => {
    const t = new Timeline(2, 1, MODEL);
    t.blocked(0);
    t.open(1, { after: [], plusUs: 50 });           // node 1 works until 50 at least
    carry(t, message(0, 1, 1, 100), 1);             // leaves at 0: before node 1 can send anything
    expect(t.reachedUs(messageId(0, 1))).toBe(2);
    carry(t, message(0, 2, 1, 100, [], 60), 1);     // leaves at 60: node 1 might still send before
    expect(t.reachedUs(messageId(0, 2))).toBeUndefined();
    carry(t, message(1, 1, 0, 100, [], 55), 1);     // node 1 reports at 55, then waits
    t.blocked(1);
    expect(t.reachedUs(messageId(1, 1))).toBe(57);
    expect(t.reachedUs(messageId(0, 2))).toBe(62);
  });

  it('holds time at a request until its node has answered, and the answer follows the request', () => {
    const t = new Timeline(2, 1, MODEL);
    idle(t, 2);
    const request = message(1, 1, 0, 100, [], 0, { request: true });
    carry(t, request, 1);
    expect(t.reachedUs(request.id)).toBe(2);
    carry(t, message(1, 2, 0, 100, [], 10), 1);     // later traffic waits: node 0 owes an answer from 2
    expect(t.reachedUs(messageId(1, 2))).toBeUndefined();
    carry(t, message(0, 1, 1, 100, [request.id], 3, { answers: { request: request.id, last: true } }), 1);
    expect(t.reachedUs(messageId(0, 1))).toBe(7);   // ready at 2 + 3, then a hop
    expect(t.reachedUs(messageId(1, 2))).toBe(12);
  });

  it('times an arrival at the horizon even when a hop at that instant must wait (the master holds the horizon there)', () => {
    const t = new Timeline(2, 1, MODEL);
    const arrived: [number, number][] = [];
    t.master = { arrived: (id, us) => void arrived.push([id, us]), owesFromUs: () => 4, heard: () => {}, moved: () => {} };
    idle(t, 2);
    const hop = message(1, 1, 0, 100, [], 4);                                   // ready at 4: waits at the horizon
    const request = message(1, 2, 0, 100, [], 2, { request: true, toMaster: true });   // arrives at 2 + 1 + 1 = 4
    carry(t, hop, 1);
    carry(t, request, 1);
    expect(arrived).toEqual([[request.id, 4]]);
    expect(t.reachedUs(hop.id)).toBeUndefined();
  });

  it('stops a refused message where it was refused; what follows it follows from there', () => {
    const t = new Timeline(4, 2, MODEL);
    idle(t, 4);
    const m = message(0, 1, 3, 100, [], 0, { request: true });   // 0 -> 1 -> 3, refused at 1
    t.sent(m);
    t.passed(m.id, 0, true);
    t.passed(m.id, 1, false);
    const bounce = message(1, 1, 0, 100, [m.id], 0, { answers: { request: m.id, last: true } });
    carry(t, bounce, 2);
    t.finish();
    expect(t.reachedUs(m.id)).toBe(2);
    expect(t.reachedUs(bounce.id)).toBe(4);
  });

  it('gives the same times whatever order the node threads report in (random jobs, random interleavings)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const plan = randomPlan(seed);
      const { timedBeforeEnd: _, ...reference } = runJob(plan, seed * 1000);
      expect(Object.values(reference.reached).every((us) => us !== undefined)).toBe(true);
      for (let run = 1; run < 6; run++) {
        const { timedBeforeEnd: __, ...got } = runJob(plan, seed * 1000 + run);
        if (JSON.stringify(got) !== JSON.stringify(reference)) expect({ seed, run, got }).toEqual({ seed, run, got: reference });
      }
    }
  });

  it('has timed part of a job before its end (it runs beside the job, not after it)', () => {
    const plan = randomPlan(7);
    expect(runJob(plan, 1).timedBeforeEnd).toBeGreaterThan(0);
  });
});

// A random job on a 3-cube, after the engine's shape: node 0 answers requests (the master); each
// other node asks it for work, round after round, and in each round fetches chunks from some
// other nodes, then computes. The plan fixes what is sent; the run's real order is random.
interface Round {
  computeUs: number;
  fetches: { from: number; chunks: number; bytes: number }[];
}

type Plan = Round[][];

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

const D = 3;
const NODES = 1 << D;

function randomPlan(seed: number): Plan {
  const random = rng(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  return Array.from({ length: NODES }, (_, node) => node === 0 ? [] : Array.from({ length: 1 + pick(3) }, () => ({
    computeUs: pick(3) * 7,
    fetches: Array.from({ length: pick(4) }, () => ({ from: 1 + ((node + pick(NODES - 2)) % (NODES - 1)), chunks: 1 + pick(3), bytes: [100, 400, 2000][pick(3)] })),
  })));
}

/**
 * Runs the plan as the node threads would: a node acts once what it waits for has really reached
 * it; each router reports a hop when the bytes really get there; each thread's reports reach the
 * timeline in that thread's order, but the threads interleave at random.
 */
function runJob(plan: Plan, seed: number): { reached: Record<string, number | undefined>; messages: number; links: unknown; timedBeforeEnd: number } {
  const random = rng(seed);
  const t = new Timeline(NODES, D, MODEL);
  const outbox: (() => void)[][] = Array.from({ length: NODES }, () => []);
  const seq = new Array<number>(NODES).fill(0);
  const names = new Map<string, SentMessage>();
  const arrived = new Set<number>();
  const inFlight: { m: SentMessage; route: number[]; hop: number }[] = [];
  const tasks: (() => boolean)[] = [];    // things the nodes do once they can; true when done

  const send = (name: string, src: number, dst: number, bytes: number, after: number[], plusUs: number, order: number[], more: Partial<SentMessage> = {}): SentMessage => {
    const m = message(src, ++seq[src], dst, bytes, after, plusUs, { order, ...more });
    names.set(name, m);
    outbox[src].push(() => t.sent(m), () => t.passed(m.id, src, true));
    inFlight.push({ m, route: ecubeRoute(src, dst, D), hop: 1 });
    return m;
  };
  const serve = (request: SentMessage, name: string, chunks: number, bytes: number): void => {
    let next = 0;
    tasks.push(() => {
      if (!arrived.has(request.id)) return false;
      send(`${name}.${next}`, request.dst, request.src, bytes, [request.id], 0, [...request.order, next], { answers: { request: request.id, last: next === chunks - 1 } });
      return ++next === chunks;
    });
  };
  outbox[0].push(() => t.blocked(0));
  for (let node = 1; node < NODES; node++) {
    let round = 0;
    let step = 0;                                  // 0: ask the master; 1: fetch; 2: wait for the fetches
    let answer: SentMessage | undefined;
    let asked: SentMessage | undefined;
    let fetched: SentMessage[] = [];
    let mine = 0;
    const worker = (): boolean => {
      if (step === 0) {
        const after = answer ? [answer.id, ...fetched.map((c) => c.id)] : [];
        if (!after.every((id) => arrived.has(id))) return false;
        if (round === plan[node].length) return true;
        const plusUs = answer ? plan[node][round - 1].computeUs : 0;
        asked = send(`ask.${node}.${round}`, node, 0, 100, after, plusUs, [node, ++mine], { request: true });
        outbox[node].push(() => t.blocked(node, asked!.id));
        serve(asked, `answer.${node}.${round}`, 1, 200);
        step = 1;
        return false;
      }
      if (step === 1) {
        answer = names.get(`answer.${node}.${round}.0`);
        if (!answer || !arrived.has(answer.id)) return false;
        fetched = [];
        for (const [j, fetch] of plan[node][round].fetches.entries()) {
          const request = send(`fetch.${node}.${round}.${j}`, node, fetch.from, 50, [answer.id], 0, [node, ++mine], { request: true, shuffle: true });
          serve(request, `chunk.${node}.${round}.${j}`, fetch.chunks, fetch.bytes);
        }
        step = 2;
        return false;
      }
      const chunks = plan[node][round].fetches.flatMap((fetch, j) => Array.from({ length: fetch.chunks }, (_, i) => names.get(`chunk.${node}.${round}.${j}.${i}`)));
      if (!chunks.every((c) => c && arrived.has(c.id))) return false;
      fetched = chunks as SentMessage[];
      round++;
      step = 0;
      return false;
    };
    tasks.push(worker);
  }

  let timedBeforeEnd = 0;
  for (;;) {
    const actions: (() => void)[] = [];
    for (let node = 0; node < NODES; node++) if (outbox[node].length > 0) actions.push(() => outbox[node].shift()!());
    for (const flight of inFlight) {
      actions.push(() => {
        const node = flight.route[flight.hop];
        if (node === flight.m.dst) {
          inFlight.splice(inFlight.indexOf(flight), 1);
          arrived.add(flight.m.id);
        } else {
          outbox[node].push(() => t.passed(flight.m.id, node, true));
          flight.hop++;
        }
      });
    }
    for (const task of tasks) actions.push(() => { if (task()) tasks.splice(tasks.indexOf(task), 1); });
    if (inFlight.length === 0 && outbox.every((o) => o.length === 0) && tasks.length === NODES - 1 + 0 && [...names.values()].every((m) => arrived.has(m.id))) {
      // Every worker asks no more once its rounds are done: what is left are finished workers.
      if (tasks.every((task) => task())) break;
    }
    if (actions.length === 0) break;
    actions[Math.floor(random() * actions.length)]();
  }
  timedBeforeEnd = [...names.values()].filter((m) => t.reachedUs(m.id) !== undefined).length;
  t.finish();
  const reached: Record<string, number | undefined> = {};
  for (const [name, m] of [...names.entries()].sort()) reached[name] = t.reachedUs(m.id);
  return { reached, messages: names.size, links: [...t.links.entries()].sort((a, b) => a[0] - b[0]), timedBeforeEnd };
}
