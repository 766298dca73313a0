// The horizontal backend's dispatcher: a Worker that takes tasks from the master as any worker
// does, but sends each through the balancer to a stateless server instead of running it, and
// hands the server's report back to the master. It runs beside the master (`mr run`, or
// `mr master --balancer`).
import { connectBalancers } from './balancer/balancer-client.ts';
import type { Logger } from '../../log.ts';
import type { TlsMaterial } from '../../wires/grpc/credentials.ts';
import type { Transport } from '../../wires/index.ts';
import { Worker } from '../../worker/worker.ts';

export interface DispatcherOptions {
  masterAddress: string;
  balancerAddress: string;      // host:port, or several: a pair of balancers (connectBalancers)
  sharedDir: string;             // where the servers keep map outputs: the same path for every server
  slots: number;                 // tasks in flight at once
  transport: Transport;
  token?: string;
  tls?: TlsMaterial;
  workDir: string;
  log: Logger;
}

const TASK_DEADLINE_MS = 60 * 60_000;

export async function startDispatcher(options: DispatcherOptions): Promise<{ worker: Worker; close(): Promise<void> }> {
  const client = connectBalancers(options.balancerAddress, options.token, options.tls);
  const worker = new Worker({
    masterAddress: options.masterAddress, workDir: options.workDir, slots: options.slots, transport: options.transport, log: options.log,
    remote: (task, workerId, signal) => abortable(client.runTask({ task, masterAddress: options.masterAddress, workerId, sharedDir: options.sharedDir }, TASK_DEADLINE_MS), signal),
  });
  await worker.start();
  return {
    worker,
    async close() {
      await worker.stop();
      client.close();
    },
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('the attempt was cancelled'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
