// A node's membership kept alive from a thread of its own. The lease's keep-alives must not wait
// for the node's event loop: a job function that holds the loop for seconds (one long call, a
// busy map) would otherwise let the lease lapse, and the node, alive and working, would be given
// up for dead. The thread dies with the process (kill -9, a crash) and stops with it (SIGSTOP):
// then the lease lapses, as it should. Plain JavaScript run with eval: it loads only etcd3.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Etcd3 } = require(workerData.etcd3);
let lease;
let client;
let leaving = false;
parentPort.on('message', async (message) => {
  if (message.type === 'join') {
    client = new Etcd3({ hosts: workerData.endpoints, dialTimeout: 3000 });
    lease = client.lease(workerData.ttlSec, { autoKeepAlive: true });
    lease.on('lost', (error) => {
      if (!leaving) parentPort.postMessage({ type: 'lost', why: error.message });
    });
    lease.put(workerData.key).value(workerData.value).then(
      async () => parentPort.postMessage({ type: 'joined', leaseId: await lease.grant() }),
      (error) => parentPort.postMessage({ type: 'failed', why: error.message }),
    );
    return;
  }
  if (message.type !== 'leave') return;
  leaving = true;
  try {
    await lease.put(workerData.key).value(message.value);
    await lease.revoke();
  } catch {
    lease.release();   // etcd gone: the lease lapses by itself
  }
  client.close();
  parentPort.postMessage({ type: 'left' });
});
`;

type Event = { type: 'joined'; leaseId: string } | { type: 'left' } | { type: 'lost' | 'failed'; why: string };

export interface Membership {
  /** The lease the membership is held under: what else the node holds goes with it (its locks). */
  leaseId: string;
  leave(leavingValue: string): Promise<void>;
}

/**
 * Puts key = value under a lease of ttlSec, kept alive by the thread, once `serving` resolves (the
 * thread loads etcd3 meanwhile). onLost: the lease lapsed (etcd could not be reached in time).
 * Resolves once the key is in etcd, to leave(leavingValue).
 */
export async function holdMembership(
  endpoints: string[], key: string, value: string, ttlSec: number, onLost: (why: string) => void, serving: Promise<void> = Promise.resolve(),
): Promise<Membership> {
  const etcd3 = createRequire(import.meta.url).resolve('etcd3');
  const thread = new Worker(THREAD_CODE, { eval: true, workerData: { etcd3, endpoints, key, value, ttlSec } });
  thread.unref();
  void serving.then(() => thread.postMessage({ type: 'join' }));
  const joined = new Promise<string>((resolve, reject) => {
    thread.on('message', (event: Event) => {
      if (event.type === 'joined') resolve(event.leaseId);
      if (event.type === 'failed') reject(new Error(event.why));
      if (event.type === 'lost') onLost(`its etcd lease lapsed: ${event.why}`);
    });
    thread.once('error', reject);
  });
  let leaseId: string;
  try {
    leaseId = await joined;
  } catch (error) {
    await thread.terminate();
    throw error;
  }
  return { leaseId, leave: async (leavingValue) => {
    const left = new Promise<void>((resolve) => {
      thread.on('message', (event: Event) => event.type === 'left' && resolve());
      thread.once('exit', () => resolve());
    });
    thread.postMessage({ type: 'leave', value: leavingValue });
    await left;
    await thread.terminate();
  } };
}
