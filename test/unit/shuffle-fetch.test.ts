// The shuffle against a peer that never answers (its host gone without a reset): the stream is
// given up after its idle time and retried on a new connection, then reported lost with the map
// tasks to run again; a cancelled attempt stops at once, whatever its streams are doing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FetchFailedError, TaskError } from '../../src/errors.ts';
import { MapOutputStore } from '../../src/storage/map-output-store.ts';
import { fetchRuns, type FetchIo } from '../../src/worker/shuffle-fetch.ts';

const outputs = [1, 2].map((mapTask) => ({ mapTask, workerAddress: '10.0.0.9:7001', outputId: `m${mapTask}`, path: '' }));

/** Streams that never bring a byte, and the connections forgotten. */
function silentPeer(): { io: FetchIo; forgotten: string[]; opened: () => number } {
  const forgotten: string[] = [];
  let opened = 0;
  const io: FetchIo = {
    store: new MapOutputStore('/nonexistent'),
    mayHold: () => false,
    fetch: () => ({
      [Symbol.asyncIterator]: () => {
        opened++;
        return { next: () => new Promise<IteratorResult<Buffer>>(() => undefined) };
      },
    }),
    forget: (address) => void forgotten.push(address),
  };
  return { io, forgotten, opened: () => opened };
}

afterEach(() => void vi.useRealTimers());

describe('shuffle fetch from a peer that never answers', () => {
  it('gives each stream up after 15 s silent, retries on a new connection, then reports the outputs lost', async () => {
    vi.useFakeTimers();
    const { io, forgotten, opened } = silentPeer();
    const fetching = fetchRuns({ attemptId: 'a', partition: 0, mapOutputs: outputs }, io, '/nonexistent', {}, new AbortController().signal, {});
    const outcome = fetching.then(() => undefined, (error: unknown) => error);
    await vi.advanceTimersByTimeAsync(14_000);
    expect(forgotten).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(FetchFailedError);
    expect((error as FetchFailedError).mapTasks).toEqual([1, 2]);
    expect((error as Error).message).toMatch(/no data for 15 s/);
    expect(opened()).toBe(6);                                  // each output tried 3 times
    expect(forgotten).toEqual(Array(6).fill('10.0.0.9:7001'));  // each time on a new connection
  });

  it('gives up at once, without retries, on a worker the master has since presumed dead', async () => {
    vi.useFakeTimers();
    const { io, opened } = silentPeer();
    const gone = new AbortController();
    io.gone = () => gone.signal;
    const fetching = fetchRuns({ attemptId: 'a', partition: 0, mapOutputs: outputs }, io, '/nonexistent', {}, new AbortController().signal, {});
    const outcome = fetching.then(() => undefined, (error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    gone.abort();                                              // the heartbeat's reply names it
    await vi.advanceTimersByTimeAsync(10);
    const error = await outcome;
    expect(error).toBeInstanceOf(FetchFailedError);
    expect((error as Error).message).toMatch(/presumed dead/);
    expect(opened()).toBe(2);                                  // one try each: no retry of a dead worker
  });

  it('stops at once when the attempt is cancelled', async () => {
    const { io } = silentPeer();
    const controller = new AbortController();
    const fetching = fetchRuns({ attemptId: 'a', partition: 0, mapOutputs: outputs }, io, '/nonexistent', {}, controller.signal, {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await expect(fetching).rejects.toBeInstanceOf(TaskError);
  });
});
