// A connection that failed before any RPC, because the two ends disagree on TLS or the server did
// not accept this client's certificate: the caller's credentials are wrong, so retrying will not
// help. Told apart from an unreachable server (refused, timed out: it fails at connect, with an
// errno) by what grpc-js reports once TCP was up: an OpenSSL reason, or a server that hung up
// ("Failed to connect", or a reset when we wrote after it had closed).
import { grpcJs } from './grpc-js.ts';
import { AuthError } from '../../errors.ts';
import { isServiceError } from '../call-policy.ts';

const TLS_REASON = /SSL routines:[^:]*:([^:\n]+)|(self[- ]signed certificate[^.\n]*|unable to (?:get|verify)[^.\n]*|certificate (?:has expired|is not yet valid)|Hostname\/IP does not match[^.\n]*)/i;
const HUNG_UP = /Last error: (?:Failed to connect\b|(?:Error: )?(?:read|write) (?:ECONNRESET|EPIPE)\b)/;

/** An AuthError naming the TLS problem when error is a failed handshake with server (`master host:port`); else undefined. */
export function handshakeError(error: unknown, server: string, tls: boolean): AuthError | undefined {
  if (!isServiceError(error) || error.code !== grpcJs().status.UNAVAILABLE || !error.details.startsWith('No connection established')) return undefined;
  const advice = "give the cluster's --tls-ca, and a --tls-cert and --tls-key signed by it";
  const match = TLS_REASON.exec(error.details);
  const reason = match ? (match[1] ?? match[2]).trim() : undefined;
  // An alert is the server's word on our certificate; hanging up is how it says so when we had TLS.
  if ((reason && /alert/.test(reason)) || (!reason && tls && HUNG_UP.test(error.details))) {
    return new AuthError(`${server} refused this client's certificate during the TLS handshake${reason ? ` (${reason})` : ''}: ${advice}`);
  }
  if (reason) return new AuthError(`TLS handshake with ${server} failed (${reason}): ${advice}`);
  if (!HUNG_UP.test(error.details)) return undefined;
  return new AuthError(`${server} closed the connection before answering: it may require mutual TLS; ${advice}`);
}
