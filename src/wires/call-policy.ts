// Deadlines and retries for every RPC: an idempotent call is retried with backoff when the
// network fails it (UNAVAILABLE, DEADLINE_EXCEEDED, or an in-process backend's "nobody answered");
// a non-idempotent one never is. gRPC applies it to every call; in-process backends only under
// --chaos, the one thing that makes their calls fail.
import type { ServiceError } from '@grpc/grpc-js';
import type { MasterMethod } from './contract.gen.ts';
import { isUnavailable } from './unavailable.ts';

export interface CallPolicy {
  deadlineMs: number;
  idempotent: boolean;
  retries?: number;              // default 5
}

/** The Master service's calls, each of the proto's (a new one without a policy fails tsc): what a retry of each would do decides whether it is retried. */
export const MASTER_POLICY: Record<MasterMethod, CallPolicy> = {
  submitJob: { deadlineMs: 30_000, idempotent: true },      // the client picks the job id
  getJobStatus: { deadlineMs: 10_000, idempotent: true },
  killJob: { deadlineMs: 10_000, idempotent: true },
  listJobs: { deadlineMs: 10_000, idempotent: true },
  getJobLogs: { deadlineMs: 10_000, idempotent: true },
  registerWorker: { deadlineMs: 10_000, idempotent: true }, // the worker picks its id
  // A long poll; the worker names each request, and the master answers a request it has seen
  // (retried, or duplicated on the way) with the reply it gave it, never with a second task.
  requestTask: { deadlineMs: 0, idempotent: true },
  reportAttempt: { deadlineMs: 30_000, idempotent: true },  // the master remembers each attempt's outcome
  reportAttempts: { deadlineMs: 30_000, idempotent: true }, // each report by attempt id, the call by its request id
  commitAttempt: { deadlineMs: 30_000, idempotent: true },
  heartbeat: { deadlineMs: 5_000, idempotent: true },
  listProcesses: { deadlineMs: 10_000, idempotent: true },
  killProcess: { deadlineMs: 10_000, idempotent: true },    // killing twice is killing once
  drainNode: { deadlineMs: 10_000, idempotent: true },
  resolveNodes: { deadlineMs: 10_000, idempotent: true },
};

/** How much longer than the time the master may hold a long poll its caller waits for the reply. */
export const LONG_POLL_MARGIN_MS = 10_000;

export function isServiceError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && 'code' in error && 'details' in error;
}

/** The other side did not answer (see unavailable.ts): asking again may help. */
export function isRetryable(error: unknown): boolean {
  return isUnavailable(error);
}

/** Exponential backoff with jitter: 100 ms, 200 ms, ... up to 2 s. */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const base = Math.min(2000, 100 * 2 ** retry);
  return base / 2 + random() * (base / 2);
}

export async function callWithPolicy<T>(policy: CallPolicy, call: (deadline: Date, retry: number) => Promise<T>): Promise<T> {
  const retries = policy.idempotent ? (policy.retries ?? 5) : 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(new Date(Date.now() + policy.deadlineMs), attempt);
    } catch (error) {
      if (attempt >= retries || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    }
  }
}
