// The map/reduce barrier as words of the task board (module 0): per (job, stage) a counter of
// the stage's map tasks the master accepted, which a processor adds to once it is told its map
// attempt was accepted, and a reducer waits on (Atomics.waitAsync) until it reaches the number
// of the stage's map tasks before it reads any map output.
//
// The master hands out a stage's reduces only after every map of the stage committed: that rule
// is what guarantees the order; the counter is what the processors synchronise on, so the wait
// normally ends at once (or as soon as the last map's processor has taken its reply).
//
// - A map run again (its output lost) must not count twice: each entry has one bit per map task
//   index, set with compareExchange; only the processor that sets it adds to the counter. Map
//   tasks past the first MAP_BITS of a stage are not counted (a reducer does not wait for them):
//   the master's rule alone orders those.
// - The table is bounded: STAGE_ENTRIES entries, a (job, stage) takes the entry its hash names,
//   and the next (job, stage) hashed there takes it over, clearing it, once its own first map is
//   accepted. Two stages in progress at once on one entry would take it from each other: their
//   reducers' waits then end at their bound (counted as late), a delay, never a hang.
import { waitWhileEqual } from './atomic-wait.ts';

export const STAGE_ENTRIES = 32;
export const MAP_BITS = 4096;
const KEY = 0;        // the (job, stage)'s hash; 0: never used; RESETTING: being taken over
const COUNT = 1;
const BITS = 2;
const ENTRY_WORDS = BITS + MAP_BITS / 32;
const RESETTING = -1;

/** Int32 words of the table. */
export const stageTableWords = (): number => STAGE_ENTRIES * ENTRY_WORDS;

type Charge = (bytes: number) => void;

/** The (job, stage)'s key: FNV-1a over the job id and the stage; never 0 or RESETTING. */
export function stageKey(jobId: string, stage: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(jobId)) hash = Math.imul(hash ^ byte, 0x01000193);
  for (let shift = 0; shift < 32; shift += 8) hash = Math.imul(hash ^ ((stage >>> shift) & 0xff), 0x01000193);
  hash |= 0;
  return hash === 0 || hash === RESETTING ? 1 : hash;
}

const entryOf = (key: number): number => ((key >>> 0) % STAGE_ENTRIES) * ENTRY_WORDS;

/** The entry's base word once it holds `key` (taking it over if it held another stage). */
function claim(table: Int32Array, key: number, charge: Charge): number {
  const base = entryOf(key);
  for (;;) {
    const held = Atomics.load(table, base + KEY);
    charge(4);
    if (held === key) return base;
    if (held === RESETTING) continue;   // another processor is clearing it: a few stores
    if (Atomics.compareExchange(table, base + KEY, held, RESETTING) !== held) continue;
    for (let at = base + COUNT; at < base + ENTRY_WORDS; at++) Atomics.store(table, at, 0);
    Atomics.store(table, base + KEY, key);
    charge(4 * (ENTRY_WORDS + 1));
    return base;
  }
}

/**
 * Map task `mapTask` of the stage was accepted: counts it unless it was counted already.
 * Returns true when this call counted it.
 */
export function arrive(table: Int32Array, jobId: string, stage: number, mapTask: number, charge: Charge): boolean {
  if (!Number.isInteger(mapTask) || mapTask < 0 || mapTask >= MAP_BITS) return false;
  const base = claim(table, stageKey(jobId, stage), charge);
  const word = base + BITS + (mapTask >>> 5);
  const bit = 1 << (mapTask & 31);
  for (;;) {
    const old = Atomics.load(table, word);
    charge(4);
    if ((old & bit) !== 0) return false;
    charge(4);
    if (Atomics.compareExchange(table, word, old, old | bit) === old) break;
  }
  Atomics.add(table, base + COUNT, 1);
  Atomics.notify(table, base + COUNT);
  charge(8);
  return true;
}

/** The stage's map tasks counted so far (0 if its entry holds another stage). */
export function arrivals(table: Int32Array, jobId: string, stage: number, charge: Charge): number {
  const key = stageKey(jobId, stage);
  const base = entryOf(key);
  const count = Atomics.load(table, base + COUNT);
  const held = Atomics.load(table, base + KEY);
  charge(8);
  return held === key ? count : 0;
}

/** How many of a reduce task's map tasks the barrier counts: those under MAP_BITS. */
export function countedMaps(mapTasks: readonly number[]): number {
  return mapTasks.filter((index) => index < MAP_BITS).length;
}

/**
 * Waits until `needed` map tasks of the stage are counted, or timeoutMs has passed. True when
 * they are. Each look at the words is a touch of the board.
 */
export async function awaitArrivals(table: Int32Array, jobId: string, stage: number, needed: number, timeoutMs: number, charge: Charge): Promise<boolean> {
  const endMs = Date.now() + timeoutMs;
  const counter = entryOf(stageKey(jobId, stage)) + COUNT;
  for (;;) {
    const count = Atomics.load(table, counter);
    if (arrivals(table, jobId, stage, charge) >= needed) return true;
    const leftMs = endMs - Date.now();
    if (leftMs <= 0) return false;
    // Woken by an arrival's notify; a take-over of the entry changes the count too.
    await waitWhileEqual(table, counter, count, Math.min(leftMs, 1000));
  }
}
