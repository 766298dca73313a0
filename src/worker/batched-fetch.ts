// Many map outputs' partitions in one stream (FetchPartitions): a reducer that needs thousands of
// tiny runs from one worker asks for them in batches instead of opening a stream for each. Each
// chunk is a 4-byte big-endian index into the request's outputs, then bytes of that output;
// outputs come in the request's order, and an empty one sends no chunk at all.

const HEADER_BYTES = 4;

/** The serving side: each output's chunks in turn, each behind its index. */
export async function* framedOutputs(outputs: readonly (() => AsyncIterable<Buffer>)[]): AsyncGenerator<Buffer> {
  for (let index = 0; index < outputs.length; index++) {
    for await (const chunk of outputs[index]()) {
      if (chunk.length === 0) continue;
      const framed = Buffer.allocUnsafe(HEADER_BYTES + chunk.length);
      framed.writeUInt32BE(index, 0);
      chunk.copy(framed, HEADER_BYTES);
      yield framed;
    }
  }
}

/** Where one output's bytes go as they arrive, and what it is once they are all in. */
export interface OutputSink<T> {
  add(chunk: Buffer): Promise<void>;
  finish(): Promise<T>;
  /** The stream broke while this output was coming in: drop what was received. */
  abort(): Promise<void>;
}

/**
 * The fetching side: demultiplexes a FetchPartitions stream of `count` outputs into a sink each
 * (opened as its first chunk arrives, or at once for an output that turns out empty), calling
 * done(index, result) as each output completes. When the stream breaks, the outputs done so far
 * stay done, and the error is thrown: the caller asks again for the others.
 */
export async function readFramed<T>(
  chunks: AsyncIterable<Buffer>, count: number, open: (index: number) => OutputSink<T>, done: (index: number, result: T) => void,
): Promise<void> {
  let current = -1;
  let sink: OutputSink<T> | undefined;
  const completeUpTo = async (index: number): Promise<void> => {
    if (sink) done(current, await sink.finish());
    sink = undefined;
    for (let empty = current + 1; empty < index; empty++) done(empty, await open(empty).finish());
  };
  try {
    for await (const chunk of chunks) {
      if (chunk.length < HEADER_BYTES) throw new Error(`a FetchPartitions chunk of ${chunk.length} bytes has no output index`);
      const index = chunk.readUInt32BE(0);
      if (index < current || index >= count) throw new Error(`a FetchPartitions chunk names output ${index} after ${current}, of ${count}`);
      if (index !== current) {
        await completeUpTo(index);
        current = index;
        sink = open(index);
      }
      await sink!.add(chunk.subarray(HEADER_BYTES));
    }
  } catch (error) {
    await sink?.abort();
    throw error;
  }
  await completeUpTo(count);
}
