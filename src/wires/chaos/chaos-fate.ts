// What the chaos layer does to one call, decided up front from the spec and a random stream, and
// whether a node is cut off at a given time. Pure: no I/O, no clock (time comes in as an argument).
import type { Random } from './chaos-random.ts';
import type { ChaosPartition, ChaosSpec } from './chaos-spec.ts';

export interface MessageFate {
  lost: boolean;
  delayMs: number;
}

export interface CallFate {
  request: MessageFate & {
    duplicated: boolean;
    reordered: boolean;
  };
  /** How long after the original the duplicate leaves: it may meet the first copy in flight or after its reply. */
  duplicateLagMs: number;
  reply: MessageFate;
}

/** The duplicate of a request leaves up to this long after the original. */
export const DUPLICATE_LAG_MAX_MS = 50;

/**
 * Always draws the same count of numbers, whichever switches are on, so that turning one switch
 * on does not shift the fates the others draw.
 */
export function callFate(spec: ChaosSpec, random: Random): CallFate {
  const lost = random() < spec.drop;
  const duplicated = random() < spec.dup;
  const reordered = random() < spec.reorder;
  const delayMs = delayOf(spec, random());
  const duplicateLagMs = Math.round(random() * DUPLICATE_LAG_MAX_MS);
  return { request: { lost, delayMs, duplicated, reordered }, duplicateLagMs, reply: messageFate(spec, random) };
}

/** A reply, or one chunk of a stream. */
export function messageFate(spec: ChaosSpec, random: Random): MessageFate {
  const lost = random() < spec.drop;
  return { lost, delayMs: delayOf(spec, random()) };
}

function delayOf(spec: ChaosSpec, r: number): number {
  if (!spec.delay) return 0;
  const { ms, jitterMs } = spec.delay;
  return Math.max(0, Math.round(ms - jitterMs + 2 * jitterMs * r));
}

/** The window that cuts `node` off at sinceEpochMs, if any (from inclusive, to exclusive). */
export function cutOffWindow(spec: ChaosSpec, node: string, sinceEpochMs: number): ChaosPartition | undefined {
  return spec.partitions.find((p) => p.node === node && sinceEpochMs >= p.fromMs && sinceEpochMs < p.toMs);
}
