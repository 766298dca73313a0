// FetchPartitions framing: the outputs' chunks behind their index, in order, an empty output
// sending nothing; the fetching side gives each output whole to its sink, and when the stream
// breaks keeps the outputs already done and drops the one coming in.
import { describe, expect, it } from 'vitest';
import { framedOutputs, readFramed, type OutputSink } from '../../src/worker/batched-fetch.ts';

async function* chunksOf(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

function collecting(received: Map<number, string>, aborted: number[]): (index: number) => OutputSink<string> {
  return (index) => {
    let text = '';
    return {
      add: async (chunk) => void (text += chunk.toString()),
      finish: async () => text,
      abort: async () => void aborted.push(index),
    };
  };
}

describe('batched fetch', () => {
  it('carries several outputs, empty ones included, each whole and in order', async () => {
    const outputs = [() => chunksOf('ab', 'c'), () => chunksOf(), () => chunksOf('d'), () => chunksOf()];
    const done = new Map<number, string>();
    const order: number[] = [];
    await readFramed(framedOutputs(outputs), outputs.length, collecting(new Map(), []), (i, text) => {
      order.push(i);
      done.set(i, text);
    });
    expect(order).toEqual([0, 1, 2, 3]);
    expect([...done.entries()]).toEqual([[0, 'abc'], [1, ''], [2, 'd'], [3, '']]);
  });

  it('keeps the outputs done before a break, and drops the one that was coming in', async () => {
    async function* breaking(): AsyncGenerator<Buffer> {
      let n = 0;
      for await (const chunk of framedOutputs([() => chunksOf('x'), () => chunksOf(), () => chunksOf('y1', 'y2')])) {
        if (n++ === 2) throw new Error('stream broke');
        yield chunk;
      }
    }
    const done = new Map<number, string>();
    const aborted: number[] = [];
    await expect(readFramed(breaking(), 3, collecting(new Map(), aborted), (i, text) => done.set(i, text))).rejects.toThrow('stream broke');
    expect([...done.entries()]).toEqual([[0, 'x'], [1, '']]);
    expect(aborted).toEqual([2]);
  });

  it('refuses a chunk that names no output of the request', async () => {
    async function* bad(): AsyncGenerator<Buffer> {
      const chunk = Buffer.alloc(5);
      chunk.writeUInt32BE(7, 0);
      yield chunk;
    }
    await expect(readFramed(bad(), 2, collecting(new Map(), []), () => {})).rejects.toThrow(/output 7/);
  });
});
