// The butterfly's shared-memory channel and RPC, across real worker threads: frames of any size
// arrive intact and in order, close ends the reader, calls run concurrently and fail cleanly.
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { startThread } from '../../src/thread-entry.ts';
import { ChannelClosedError, ChannelReader, ChannelWriter, channelMemory } from '../../src/backends/butterfly/shared-channel.ts';
import { RpcClient, RpcError } from '../../src/backends/butterfly/shared-rpc.ts';
import { int, mulberry32, type Rng } from './prng.ts';

const ECHO = new URL('../fixtures/butterfly-echo-thread.ts', import.meta.url);
const RPC = new URL('../fixtures/butterfly-rpc-thread.ts', import.meta.url);
const threads: Worker[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.terminate()));
});

function start(entry: URL, data: Record<string, unknown>): Worker {
  const thread = startThread(entry, data);
  threads.push(thread);
  return thread;
}

function exited(thread: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    thread.once('exit', resolve);
    thread.once('error', reject);
  });
}

/** A frame whose every byte depends on the seed and its position: corruption or a swap shows. */
function randomFrame(rng: Rng, bytes: number): Uint8Array {
  const frame = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) frame[i] = Math.floor(rng() * 256);
  return frame;
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const utf8 = (value: string): Uint8Array => new TextEncoder().encode(value);

async function echoRoundTrip(capacityBytes: number, sizes: number[], seed: number): Promise<void> {
  const toThread = channelMemory(capacityBytes);
  const fromThread = channelMemory(capacityBytes);
  const thread = start(ECHO, { incoming: toThread, outgoing: fromThread });
  const writer = new ChannelWriter(toThread);
  const reader = new ChannelReader(fromThread);
  const rng = mulberry32(seed);
  const frames = sizes.map((size) => randomFrame(rng, size));
  // Not awaited one by one: the sends queue up and must not interleave; the reader drains meanwhile.
  const sent = Promise.all(frames.map((frame) => writer.send(frame))).then(() => writer.close());
  const received: Uint8Array[] = [];
  for (let frame = await reader.receive(); frame; frame = await reader.receive()) received.push(frame);
  await sent;
  expect(received.map((frame) => frame.length)).toEqual(sizes);
  for (let i = 0; i < frames.length; i++) {
    if (Buffer.compare(Buffer.from(received[i]), Buffer.from(frames[i])) !== 0) throw new Error(`frame ${i} of ${sizes[i]} bytes came back different`);
  }
  expect(await reader.receive()).toBeUndefined();
  expect(await exited(thread)).toBe(0);
}

describe('butterfly shared-memory channel', () => {
  it('carries frames of random sizes, some larger than the ring, intact and in order, to another thread and back', async () => {
    const rng = mulberry32(7);
    const sizes = Array.from({ length: 300 }, () => (rng() < 0.1 ? int(rng, 300, 5000) : int(rng, 0, 200)));
    await echoRoundTrip(64, sizes, 1);
  });

  it('carries frames several times the default ring size', async () => {
    await echoRoundTrip(1 << 20, [3 << 20, 1, (1 << 20) - 4, 1 << 20, 0, 2_500_000], 2);
  });

  it('works within one thread too, with a ring smaller than the frames', async () => {
    const memory = channelMemory(16);
    const writer = new ChannelWriter(memory);
    const reader = new ChannelReader(memory);
    const frames = ['first frame, longer than the ring', '', 'é∑😀 multibyte', 'x'.repeat(1000)];
    const sent = Promise.all(frames.map((frame) => writer.send(utf8(frame))));
    writer.close();
    const received: string[] = [];
    for (let frame = await reader.receive(); frame; frame = await reader.receive()) received.push(text(frame));
    await sent;
    expect(received).toEqual(frames);
  });

  it('ends the reader once the writer closed and everything was read; sends after close reject', async () => {
    const memory = channelMemory(1024);
    const writer = new ChannelWriter(memory);
    const reader = new ChannelReader(memory);
    await writer.send(utf8('last words'));
    writer.close();
    await expect(writer.send(utf8('too late'))).rejects.toBeInstanceOf(ChannelClosedError);
    expect(text((await reader.receive())!)).toBe('last words');
    expect(await reader.receive()).toBeUndefined();
    expect(await reader.receive()).toBeUndefined();
  });

  it('wakes a reader waiting in another thread when the writer closes', async () => {
    const toThread = channelMemory(256);
    const fromThread = channelMemory(256);
    const thread = start(ECHO, { incoming: toThread, outgoing: fromThread });
    const reader = new ChannelReader(fromThread);
    const pending = reader.receive();
    await new Promise((resolve) => setTimeout(resolve, 200));   // the thread is now waiting for a frame
    const closedAt = Date.now();
    new ChannelWriter(toThread).close();
    expect(await pending).toBeUndefined();
    expect(Date.now() - closedAt).toBeLessThan(500);   // woken by notify, not by the 1 s safety timeout
    expect(await exited(thread)).toBe(0);
  });

  it('cancel() ends a pending receive', async () => {
    const reader = new ChannelReader(channelMemory(64));
    const pending = reader.receive();
    reader.cancel();
    expect(await pending).toBeUndefined();
  });

  it('rejects a capacity out of range and memory not made by channelMemory', () => {
    expect(() => channelMemory(8)).toThrow(RangeError);
    expect(() => channelMemory(2 ** 31)).toThrow(RangeError);
    expect(() => new ChannelReader(new SharedArrayBuffer(1000))).toThrow(TypeError);
  });
});

describe('butterfly shared-memory RPC', () => {
  function rpcPair(capacityBytes = 1 << 16): { client: RpcClient; thread: Worker; served: Promise<unknown> } {
    const requests = channelMemory(capacityBytes);
    const replies = channelMemory(capacityBytes);
    const thread = start(RPC, { requests, replies });
    const served = new Promise((resolve) => thread.once('message', resolve));
    return { client: new RpcClient(new ChannelWriter(requests), new ChannelReader(replies)), thread, served };
  }

  it('runs calls concurrently: replies come back as handlers finish, each to its own call', async () => {
    const { client, thread, served } = rpcPair();
    await client.call('echo', utf8('warm up'));   // the thread has loaded and serves
    const finished: string[] = [];
    const started = Date.now();
    const calls = ['600:slow', '20:fast', '300:middle'].map((request) =>
      client.call('sleep', utf8(request)).then((reply) => void finished.push(text(reply))));
    await Promise.all(calls);
    expect(finished).toEqual(['slept fast', 'slept middle', 'slept slow']);
    expect(Date.now() - started).toBeLessThan(900);   // concurrent: about the longest, not the sum (920 ms)
    client.close();
    expect(await served).toBe('served');
    expect(await exited(thread)).toBe(0);
  });

  it('carries many calls in flight with payloads larger than the ring', async () => {
    const { client } = rpcPair(4096);
    const rng = mulberry32(11);
    const payloads = Array.from({ length: 200 }, () => randomFrame(rng, rng() < 0.1 ? int(rng, 5000, 20_000) : int(rng, 0, 300)));
    const replies = await Promise.all(payloads.map((payload) => client.call('echo', payload)));
    for (let i = 0; i < payloads.length; i++) expect(Buffer.compare(Buffer.from(replies[i]), Buffer.from(payloads[i]))).toBe(0);
    client.close();
  });

  it('rejects with RpcError for a handler that throws and for an unknown method, and keeps serving', async () => {
    const { client } = rpcPair();
    await expect(client.call('fail', utf8('task 3'))).rejects.toThrow(new RpcError('failed on purpose: task 3'));
    const unknown = client.call('noSuchMethod', new Uint8Array());
    await expect(unknown).rejects.toBeInstanceOf(RpcError);
    await expect(unknown).rejects.toThrow(/unknown RPC method 'noSuchMethod'/);
    expect(text(await client.call('echo', utf8('still here')))).toBe('still here');
    client.close();
  });

  it('close() rejects calls in flight with "channel closed", and the serving thread ends', async () => {
    const { client, thread, served } = rpcPair();
    const longPoll = client.call('sleep', utf8('1500:poll'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closedAt = Date.now();
    client.close();
    await expect(longPoll).rejects.toThrow(new RpcError('channel closed'));
    expect(Date.now() - closedAt).toBeLessThan(100);
    await expect(client.call('echo', utf8('after close'))).rejects.toThrow('channel closed');
    expect(await served).toBe('served');   // once the running handler finished
    expect(await exited(thread)).toBe(0);
  });
});
