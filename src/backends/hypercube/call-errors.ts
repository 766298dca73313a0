// Errors cross the hypercube's links as their kind and message, and are made again on the
// caller's side: a usage error stays a usage error, an unavailable node stays retryable.
import { AuthError, MrError, TransportUnavailableError, UsageError } from '../../errors.ts';

const KINDS = [['unavailable', TransportUnavailableError], ['auth', AuthError], ['usage', UsageError], ['mr', MrError]] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeError(error: unknown): Uint8Array {
  const kind = KINDS.find(([, type]) => error instanceof type)?.[0] ?? 'internal';
  return encoder.encode(JSON.stringify({ kind, message: error instanceof Error ? error.message : String(error) }));
}

export function errorOf(payload: Uint8Array): Error {
  let parsed: { kind?: string; message?: string } = {};
  try {
    parsed = JSON.parse(decoder.decode(payload)) as typeof parsed;
  } catch {
    // a garbled error is still an error
  }
  const type = KINDS.find(([kind]) => kind === parsed.kind)?.[1];
  const message = parsed.message ?? 'a call failed on the far node';
  return type ? new type(message) : new Error(message);
}
