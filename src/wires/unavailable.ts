// "The other side did not answer", whatever the backend: the one failure a caller may retry or
// wait out. The gRPC backend reports it as UNAVAILABLE or DEADLINE_EXCEEDED.
import { grpcJs } from './grpc/grpc-js.ts';
import { TransportUnavailableError } from '../errors.ts';

export { TransportUnavailableError };

interface CodedError {
  code: number;
  details: string;
}

function isCoded(error: unknown): error is CodedError {
  return typeof error === 'object' && error !== null && 'code' in error && 'details' in error;
}

export function isUnavailable(error: unknown): boolean {
  if (error instanceof TransportUnavailableError) return true;
  if (!isCoded(error)) return false;
  const { status } = grpcJs();
  return error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED;
}

/** A short reason for an unavailable error, without gRPC's resolution notes. */
export function unavailableReason(error: unknown): string {
  const text = isCoded(error) ? error.details : error instanceof Error ? error.message : String(error);
  return text.replace(/\s*Resolution note:.*$/, '');
}
