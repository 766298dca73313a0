// Who may read the status server: when it binds beyond loopback, a request carries the cluster's
// token (Authorization: Bearer, ?token=, or the cookie a ?token= on the page set). Compared in
// constant time; the token itself is never sent back: the cookie holds a digest of it.
import { createHmac } from 'node:crypto';
import { tokenMatches } from '../wires/grpc/token.ts';

export const COOKIE_NAME = 'mr_status';

export type AuthResult = { ok: true; via: 'open' | 'header' | 'cookie' | 'query' } | { ok: false };

export interface Credentials {
  authorization?: string;        // the Authorization header
  cookie?: string;               // the Cookie header
  queryToken?: string | null;    // ?token=
}

/** token undefined: an open server (loopback). */
export function authenticate(token: string | undefined, given: Credentials): AuthResult {
  if (token === undefined) return { ok: true, via: 'open' };
  if (given.authorization !== undefined && tokenMatches(token, given.authorization)) return { ok: true, via: 'header' };
  const cookie = cookieOf(given.cookie, COOKIE_NAME);
  if (cookie !== undefined && tokenMatches(cookieSecret(token), `Bearer ${cookie}`)) return { ok: true, via: 'cookie' };
  if (typeof given.queryToken === 'string' && tokenMatches(token, `Bearer ${given.queryToken}`)) return { ok: true, via: 'query' };
  return { ok: false };
}

/** What the cookie holds: a keyed digest of the token, so the token never travels back to the browser. */
export function cookieSecret(token: string): string {
  return createHmac('sha256', token).update('mr status page session').digest('base64url');
}

export function sessionCookie(token: string): string {
  return `${COOKIE_NAME}=${cookieSecret(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The value of one cookie of a Cookie header. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The path and query of a URL without its token parameter: where a ?token= request is sent back to. */
export function withoutToken(url: URL): string {
  const query = new URLSearchParams(url.searchParams);
  query.delete('token');
  const rest = query.toString();
  return `${url.pathname}${rest ? `?${rest}` : ''}`;
}
