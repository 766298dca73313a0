// How long a message takes over one link of the hypercube, and how long it holds the link: the
// one model of the machine's links, run by every node's router as it forwards the job's real
// messages (router.ts), and checked by the unit tests. Pure: times are simulated microseconds.
//
// Two switching models, after the two Intel hypercubes:
// - store-and-forward (iPSC/1): each node receives the whole message, then sends it on; every
//   hop costs the latency and the transmission again: h * (latency + bytes / bandwidth).
// - circuit switching (iPSC/2's Direct-Connect routing): the header sets up a path hop by hop
//   (hopUs a hop, in the routers' hardware), then the bytes stream over the whole path at once:
//   (h - 1) * hopUs + latency + bytes / bandwidth; every link of the path is held until the tail
//   has passed it (the latency, spent in the end nodes' software, holds no link).

export type Switching = 'store-and-forward' | 'circuit';

export interface LinkModel {
  switching: Switching;
  /** Zero-byte latency of a message to a neighbour, us. */
  latencyUs: number;
  /** Bytes per second, in each direction of a link. */
  bandwidthBytesPerSec: number;
  /** circuit: what each further hop adds to the set-up of the path, us. */
  hopUs: number;
}

/**
 * Published figures (S. F. Nugent, "The iPSC/2 Direct-Connect communications technology", 1988):
 * the iPSC/2 moves 2.8 MB/s in each direction of a link, with a zero-byte latency of 350 us
 * between any two nodes; its full-duplex bandwidth is ten times the iPSC/1's, and its latency a
 * third of the iPSC/1's to a neighbour. So the iPSC/1 here: 1,050 us a hop and 0.56 MB/s a
 * direction (a link the iPSC/1 used one way at a time is given to each direction, which flatters
 * it when both are busy). The Direct-Connect module's per-hop set-up (hopUs) is not published in
 * that paper; 10 us stands for "nearly equal performance between any pair of nodes".
 */
export const LINK_PRESETS: Readonly<Record<string, LinkModel>> = Object.freeze({
  ipsc1: { switching: 'store-and-forward', latencyUs: 1050, bandwidthBytesPerSec: 0.56e6, hopUs: 0 },
  ipsc2: { switching: 'circuit', latencyUs: 350, bandwidthBytesPerSec: 2.8e6, hopUs: 10 },
});

/** Without a preset: a fast modern link, store-and-forward. */
export const DEFAULT_LINK: Readonly<LinkModel> = Object.freeze({ switching: 'store-and-forward', latencyUs: 5, bandwidthBytesPerSec: 1e9, hopUs: 0 });

export interface HopTimes {
  /** When the link starts carrying the message (it may wait for the link to free). */
  startUs: number;
  /** When the link is free again. */
  freeAtUs: number;
  /** When the message (store-and-forward) or the path's header (circuit) is at the next node; on the last hop, when the whole message has arrived. */
  readyUs: number;
}

/**
 * A link's busy times, in simulated time. A message takes the first stretch, at or after the
 * time it is ready, in which the link is free long enough for it. The timeline (timeline.ts)
 * reserves in simulated-time order, so a message waits only for those before it; the stretches
 * are kept for what is timed out of order: what a node presumed gone sends late, and what comes
 * after the job's end.
 */
export class LinkCalendar {
  /** Busy stretches, sorted and disjoint: [start, end) pairs, flat. */
  private readonly busy: number[] = [];

  /** Holds the link for holdUs from the first free stretch at or after readyUs; returns its start. */
  reserve(readyUs: number, holdUs: number): number {
    const busy = this.busy;
    // The first stretch that ends after readyUs (binary search over the ends).
    let lo = 0;
    let hi = busy.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (busy[2 * mid + 1] <= readyUs) lo = mid + 1;
      else hi = mid;
    }
    let start = readyUs;
    let i = lo;
    for (; i < busy.length / 2; i++) {
      if (start + holdUs <= busy[2 * i]) break;            // fits in the gap before stretch i
      start = Math.max(start, busy[2 * i + 1]);
    }
    if (holdUs === 0) return start;                           // the first free instant: nothing to hold
    const end = start + holdUs;
    // Insert [start, end) before stretch i, merged with the stretches it touches.
    const joinsBefore = i > 0 && busy[2 * i - 1] === start;
    const joinsAfter = i < busy.length / 2 && busy[2 * i] === end;
    if (joinsBefore && joinsAfter) busy.splice(2 * i - 1, 2);
    else if (joinsBefore) busy[2 * i - 1] = end;
    else if (joinsAfter) busy[2 * i] = start;
    else busy.splice(2 * i, 0, start, end);
    if (busy.length > 2 * MAX_STRETCHES) busy.splice(0, busy.length - 2 * MAX_STRETCHES);   // the oldest forgotten: bounded memory
    return start;
  }
}

/** Busy stretches a link remembers; past them, the link's earliest times count as free. */
const MAX_STRETCHES = 65_536;

/**
 * One hop: a message of `bytes` ready to cross a link at readyUs, on the link's calendar, with
 * hopsAfter hops of its route still to go after this one. A circuit is held from its set-up
 * until the tail passes as if nothing blocked it further on (a path blocked downstream would hold
 * the links behind it longer; the model does not charge that).
 */
export function crossLink(model: LinkModel, bytes: number, readyUs: number, link: LinkCalendar, hopsAfter: number): HopTimes {
  const txUs = (bytes * 1e6) / model.bandwidthBytesPerSec;
  if (model.switching === 'store-and-forward') {
    const startUs = link.reserve(readyUs, txUs);
    return { startUs, freeAtUs: startUs + txUs, readyUs: startUs + txUs + model.latencyUs };
  }
  // The latency is the end nodes' (software at the sender and the receiver); the path is held
  // only while the header sets it up and the bytes stream through.
  const holdUs = hopsAfter * model.hopUs + txUs;
  const startUs = link.reserve(readyUs, holdUs);
  return { startUs, freeAtUs: startUs + holdUs, readyUs: hopsAfter > 0 ? startUs + model.hopUs : startUs + model.latencyUs + txUs };
}

/** The time of a message of `bytes` over `hops` links of an idle network (what crossLink gives hop after hop). */
export function unloadedUs(model: LinkModel, bytes: number, hops: number): number {
  if (hops === 0) return 0;
  const txUs = (bytes * 1e6) / model.bandwidthBytesPerSec;
  return model.switching === 'store-and-forward' ? hops * (model.latencyUs + txUs) : (hops - 1) * model.hopUs + model.latencyUs + txUs;
}

export function checkLinkModel(model: LinkModel): void {
  if (!Number.isFinite(model.latencyUs) || model.latencyUs < 0) throw new RangeError(`link latency must be a finite number >= 0 us, got ${model.latencyUs}`);
  if (!Number.isFinite(model.bandwidthBytesPerSec) || model.bandwidthBytesPerSec <= 0) {
    throw new RangeError(`link bandwidth must be a finite number > 0, got ${model.bandwidthBytesPerSec}`);
  }
}
