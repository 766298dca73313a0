// The status server's routes: which handler a method and path go to. Pure: no request, no I/O.

export type Route =
  | { name: 'page' }
  | { name: 'static'; file: string }
  | { name: 'jobs' }
  | { name: 'job'; jobId: string }
  | { name: 'attempt-log'; jobId: string; attemptId: string }
  | { name: 'events' }
  | { name: 'metrics' };

export type RouteMatch = { route: Route } | { status: 404 | 405 };

/** Read-only: GET (and HEAD, which gets the same headers and no body). */
export const ALLOWED_METHODS = 'GET, HEAD';

/** A file of the page folder: a plain name, no path and no dot file. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function matchRoute(method: string, pathname: string): RouteMatch {
  const route = routeOf(pathname);
  if (!route) return { status: 404 };
  if (method !== 'GET' && method !== 'HEAD') return { status: 405 };
  return { route };
}

function routeOf(pathname: string): Route | undefined {
  if (pathname === '/' || pathname === '/index.html') return { name: 'page' };
  if (pathname === '/events') return { name: 'events' };
  if (pathname === '/metrics') return { name: 'metrics' };
  const parts = segments(pathname);
  if (!parts) return undefined;
  if (parts.length === 2 && parts[0] === 'static' && FILE_NAME.test(parts[1]) && !parts[1].includes('..')) return { name: 'static', file: parts[1] };
  if (parts[0] !== 'api' || parts[1] !== 'jobs') return undefined;
  if (parts.length === 2) return { name: 'jobs' };
  if (parts.length === 3) return { name: 'job', jobId: parts[2] };
  if (parts.length === 6 && parts[3] === 'attempts' && parts[5] === 'log') return { name: 'attempt-log', jobId: parts[2], attemptId: parts[4] };
  return undefined;
}

/** The path's segments, decoded; undefined for an empty segment or a bad escape. A trailing slash is allowed. */
function segments(pathname: string): string[] | undefined {
  const raw = pathname.replace(/\/$/, '').split('/').slice(1);
  const parts: string[] = [];
  for (const part of raw) {
    if (part === '') return undefined;
    try {
      parts.push(decodeURIComponent(part));
    } catch {
      return undefined;
    }
  }
  return parts;
}
