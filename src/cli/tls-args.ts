// Mutual TLS from --tls-cert, --tls-key and --tls-ca: all three or none, each file readable and
// PEM of the right kind, the key the certificate's. Anything else is a usage error (exit 2).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { TlsMaterial } from '../wires/grpc/credentials.ts';

export interface TlsArgs {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

const FLAGS = [['--tls-cert', 'tlsCert'], ['--tls-key', 'tlsKey'], ['--tls-ca', 'tlsCa']] as const;

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function parsed<T>(flag: string, file: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch {
    throw new UsageError(`${flag} ${file} is not a PEM ${what}`);
  }
}

export function readTls(args: TlsArgs): TlsMaterial | undefined {
  const given = FLAGS.filter(([, key]) => args[key] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length < FLAGS.length) {
    const missing = FLAGS.filter(([, key]) => args[key] === undefined).map(([flag]) => flag);
    throw new UsageError(`TLS needs --tls-cert, --tls-key and --tls-ca together; missing ${missing.join(' and ')}`);
  }
  const [certFile, keyFile, caFile] = [String(args.tlsCert), String(args.tlsKey), String(args.tlsCa)];
  const [cert, key, ca] = [readPem('--tls-cert', certFile), readPem('--tls-key', keyFile), readPem('--tls-ca', caFile)];
  const x509 = parsed('--tls-cert', certFile, 'certificate', () => new X509Certificate(cert));
  const privateKey = parsed('--tls-key', keyFile, 'private key', () => createPrivateKey(key));
  parsed('--tls-ca', caFile, 'certificate', () => new X509Certificate(ca));
  if (!x509.checkPrivateKey(privateKey)) throw new UsageError(`--tls-key ${keyFile} is not the key of --tls-cert ${certFile}`);
  return { cert, key, ca };
}

/** The flags to give a process this one starts (mr run's own workers), so that it reads the same files. */
export function tlsFlags(args: TlsArgs): string[] {
  return FLAGS.flatMap(([flag, key]) => (args[key] === undefined ? [] : [flag, resolve(String(args[key]))]));
}

export const tlsOptions = {
  'tls-cert': { type: 'string', describe: "mutual TLS: this node's certificate (PEM), signed by --tls-ca" },
  'tls-key': { type: 'string', describe: "mutual TLS: the certificate's private key (PEM)" },
  'tls-ca': { type: 'string', describe: 'mutual TLS: the CA certificate (PEM) that every node and client certificate must be signed by' },
} as const;
