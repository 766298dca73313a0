// Deadlines and retries for every RPC: an idempotent call is retried with backoff when the
// network fails it (UNAVAILABLE, DEADLINE_EXCEEDED); a non-idempotent one never is.
import { status, type ServiceError } from '@grpc/grpc-js';

export interface CallPolicy {
  deadlineMs: number;
  idempotent: boolean;
  retries?: number;              // default 5
}

const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

export function isServiceError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && 'code' in error && 'details' in error;
}

export function isRetryable(error: unknown): boolean {
  return isServiceError(error) && RETRYABLE.has(error.code);
}

/** Exponential backoff with jitter: 100 ms, 200 ms, ... up to 2 s. */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const base = Math.min(2000, 100 * 2 ** retry);
  return base / 2 + random() * (base / 2);
}

export async function callWithPolicy<T>(policy: CallPolicy, call: (deadline: Date) => Promise<T>): Promise<T> {
  const retries = policy.idempotent ? (policy.retries ?? 5) : 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(new Date(Date.now() + policy.deadlineMs));
    } catch (error) {
      if (attempt >= retries || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    }
  }
}
