// The one place that makes gRPC credentials, for every server and client of the project (master,
// workers' shuffle service, balancer, task servers): plaintext, or mutual TLS when the daemon was
// given a certificate, its key and the cluster's CA (--tls-cert, --tls-key, --tls-ca).
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './grpc-js.ts';

/** PEM bytes: this node's certificate chain and key, and the CA that signs every node's certificate. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** With TLS, a client must present a certificate signed by the CA: the handshake checks it. */
export function serverCredentials(tls: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!tls) return grpcJs().ServerCredentials.createInsecure();
  return grpcJs().ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** With TLS, the server's certificate must be signed by the CA and name the host dialled (SAN). */
export function channelCredentials(tls: TlsMaterial | undefined): grpc.ChannelCredentials {
  if (!tls) return grpcJs().credentials.createInsecure();
  quietIpServerNameWarning();
  return grpcJs().credentials.createSsl(tls.ca, tls.key, tls.cert);
}

let quieted = false;

/**
 * grpc-js sends the dialled host as the TLS server name even when it is an IP address, which Node
 * answers with a deprecation warning (DEP0123) on stderr: a second line under a one-line error.
 * The name only selects a certificate on servers with several; ours have one, checked by its SAN.
 */
function quietIpServerNameWarning(): void {
  if (quieted) return;
  quieted = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const code = args.find((arg) => arg === 'DEP0123' || (typeof arg === 'object' && arg !== null && (arg as { code?: string }).code === 'DEP0123'));
    if (code === undefined) emit(...args);
  }) as typeof process.emitWarning;
}
