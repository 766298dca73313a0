// The status server's --http host:port: parsed and checked before anything starts.
import { UsageError } from '../errors.ts';
import { isLoopbackHost } from '../host-address.ts';

export interface HttpBind {
  host: string;                  // as given, IPv6 without brackets
  port: number;
  loopback: boolean;
}

export function parseHttpBind(flag: string, value: string): HttpBind {
  const colon = value.lastIndexOf(':');
  const rawHost = colon > 0 ? value.slice(0, colon) : '';
  const portText = colon > 0 ? value.slice(colon + 1) : '';
  const port = Number(portText);
  if (!rawHost || !/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`${flag} ${value}: give host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)`);
  }
  const host = rawHost.replace(/^\[(.*)\]$/, '$1');
  return { host, port, loopback: isLoopbackHost(rawHost) || isLoopbackHost(host) };
}

/** Beyond loopback the page and the metrics are for the cluster's token holders only (TLS does not cover HTTP). */
export function requireTokenForHttp(flag: string, bind: HttpBind, token: string | undefined): void {
  if (!bind.loopback && token === undefined) {
    throw new UsageError(`${flag} ${bind.host} is reachable from other machines: give the cluster's token with --token-file (or --token, or MR_TOKEN), which every request must then carry, or bind 127.0.0.1`);
  }
}

/** host:port as a browser writes it (IPv6 in brackets). */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
