// A worker thread of a simulated machine: runs the workers of the nodes it hosts (the same
// Worker code as the daemon, one per node, each registered with its node number) until the
// master tells them to stop or the host asks.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { oneLine } from '../errors.ts';
import { createLogger, setLogLevel } from '../log.ts';
import { ChaosNode } from '../wires/chaos/chaos-node.ts';
import { machineNodeName } from '../wires/chaos/chaos-spec.ts';
import { createTransport } from '../backends/index.ts';
import { Worker } from '../worker/worker.ts';
import type { NodeThreadData, NodeThreadEvent } from './thread-pool.ts';

const data = workerData as NodeThreadData;
const TURN_MS = 100;
const post = (event: NodeThreadEvent): void => parentPort!.postMessage(event);

async function main(): Promise<void> {
  if (data.logLevel) setLogLevel(data.logLevel);
  setInterval(() => Atomics.add(data.turns, 0, 1), TURN_MS).unref();
  // A transport per node: its messages start at its node, and it has its own chaos layer (worker-<node>).
  const transportOf = (node: number) => createTransport(data.transport, {
    token: data.token, nodes: data.nodes, tuning: data.tuning, threadData: data.threadData, node,
    chaos: data.chaos && new ChaosNode(data.chaos, machineNodeName(node)),
  })!;
  const workers: Worker[] = [];
  for (const node of data.hosted) {
    const transport = transportOf(node);
    const workDir = join(data.workRoot, `node-${node}`);
    await mkdir(workDir, { recursive: true });
    const log = createLogger({ component: `node-${node}`, file: join(workDir, 'worker.log') });
    const store = transport.machine?.outputStore?.(node, (k) => join(data.workRoot, `node-${k}`, 'map-out'));
    const worker = new Worker({ masterAddress: data.masterAddress, workDir, slots: 1, transport, log, node, store });
    await worker.start();
    workers.push(worker);
  }
  let close!: () => void;
  const closing = new Promise<void>((resolve) => (close = resolve));
  parentPort!.on('message', (message) => {
    if (message === 'stop') void Promise.all(workers.map((w) => w.stop()));
    if (message === 'close') close();
  });
  post({ type: 'started' });
  await Promise.all(workers.map((w) => w.stopped));
  // The routers here may still carry other threads' nodes' last messages: the thread ends once
  // every thread's workers have stopped (the host says close).
  post({ type: 'exited' });
  await closing;
  parentPort!.close();
}

main().catch((error) => post({ type: 'failed', error: oneLine(error) }));
