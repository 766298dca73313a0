// The cluster's shared secret from --token, --token-file or MR_TOKEN (preferred: argv shows in `ps`),
// and the rule that a daemon bound beyond loopback must have one (or mutual TLS, tls-args.ts).
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { isLoopbackHost } from '../host-address.ts';
import type { TlsMaterial } from '../wires/grpc/credentials.ts';
import { tlsOptions } from './tls-args.ts';

export interface TokenArgs {
  token?: string;
  tokenFile?: string;
}

export function readToken(args: TokenArgs, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (args.token !== undefined && args.tokenFile !== undefined) throw new UsageError('give --token or --token-file, not both');
  let token = args.token;
  if (args.tokenFile !== undefined) {
    try {
      token = readFileSync(args.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new UsageError(`cannot read --token-file ${args.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  token ??= env.MR_TOKEN || undefined;
  if (token !== undefined && token.length === 0) throw new UsageError('the token is empty');
  return token;
}

/** Beyond loopback a caller must prove who it is: with the token, or with a certificate (mutual TLS). */
export function requireTokenBeyondLoopback(flag: string, host: string, token: string | undefined, tls?: TlsMaterial): void {
  if (!isLoopbackHost(host) && token === undefined && tls === undefined) {
    throw new UsageError(`${flag} ${host} is reachable from other machines: give a shared secret with --token-file (or --token, or MR_TOKEN), or mutual TLS (--tls-cert, --tls-key, --tls-ca), or bind 127.0.0.1`);
  }
}

/** Who may talk to whom: the shared secret and mutual TLS, on every command that talks to a daemon. */
export const tokenOptions = {
  token: { type: 'string', describe: 'shared secret checked on every RPC (visible in ps; prefer --token-file or MR_TOKEN)' },
  'token-file': { type: 'string', describe: 'file holding the shared secret' },
  ...tlsOptions,
} as const;
