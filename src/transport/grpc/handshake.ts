// A connection that failed before any RPC, because the two ends disagree on TLS or the server did
// not accept this client's certificate: the caller's credentials are wrong, so retrying will not
// help. Told apart from an unreachable server (which fails at TCP, with an errno) by what grpc-js
// reports: an OpenSSL reason, or "Failed to connect" once TCP was up and the server hung up.
import { status } from '@grpc/grpc-js';
import { AuthError } from '../../errors.ts';
import { isServiceError } from '../call-policy.ts';

const TLS_REASON = /SSL routines:[^:]*:([^:\n]+)|(self[- ]signed certificate[^.\n]*|unable to (?:get|verify)[^.\n]*|certificate (?:has expired|is not yet valid)|Hostname\/IP does not match[^.\n]*|ERR_TLS_CERT_ALTNAME_INVALID[^\n]*)/i;

/** An AuthError naming the TLS problem when error is a failed handshake with server (`master host:port`); else undefined. */
export function handshakeError(error: unknown, server: string, tls: boolean): AuthError | undefined {
  if (!isServiceError(error) || error.code !== status.UNAVAILABLE || !error.details.startsWith('No connection established')) return undefined;
  const advice = "give the cluster's --tls-ca, and a --tls-cert and --tls-key signed by it";
  const reason = TLS_REASON.exec(error.details);
  if (reason) return new AuthError(`TLS handshake with ${server} failed (${(reason[1] ?? reason[2]).trim()}): ${advice}`);
  if (!/Last error: Failed to connect\b/.test(error.details)) return undefined;
  return new AuthError(tls
    ? `${server} closed the connection during the TLS handshake: it does not accept this certificate, or does not speak TLS; ${advice}`
    : `${server} closed the connection before answering: it may require mutual TLS; ${advice}`);
}
