// The status server's pure pieces: routes, Server-Sent Events framing, token checks, --http parsing.
import { describe, expect, it } from 'vitest';
import { matchRoute } from '../../src/http/routes.ts';
import { sseComment, sseEvent, sseRetry } from '../../src/http/sse.ts';
import { authenticate, cookieOf, cookieSecret, sessionCookie, withoutToken } from '../../src/http/http-auth.ts';
import { formatAddress, parseHttpBind, requireTokenForHttp } from '../../src/http/http-address.ts';
import { attemptText } from '../../src/http/status-server.ts';
import { UsageError } from '../../src/errors.ts';

describe('matchRoute', () => {
  it('finds each route, with its decoded parameters', () => {
    expect(matchRoute('GET', '/')).toEqual({ route: { name: 'page' } });
    expect(matchRoute('GET', '/events')).toEqual({ route: { name: 'events' } });
    expect(matchRoute('GET', '/metrics')).toEqual({ route: { name: 'metrics' } });
    expect(matchRoute('GET', '/api/jobs')).toEqual({ route: { name: 'jobs' } });
    expect(matchRoute('GET', '/api/jobs/')).toEqual({ route: { name: 'jobs' } });
    expect(matchRoute('GET', '/api/jobs/job-1%20x')).toEqual({ route: { name: 'job', jobId: 'job-1 x' } });
    expect(matchRoute('HEAD', '/api/jobs/j/attempts/a-1/log')).toEqual({ route: { name: 'attempt-log', jobId: 'j', attemptId: 'a-1' } });
    expect(matchRoute('GET', '/static/status-page.js')).toEqual({ route: { name: 'static', file: 'status-page.js' } });
  });

  it('answers 405 to any method but GET and HEAD on a known path, 404 to an unknown path', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) expect(matchRoute(method, '/api/jobs')).toEqual({ status: 405 });
    for (const path of ['/nope', '/api', '/api/jobs/j/attempts', '/api/jobs/j/attempts/a/err', '/api/jobs//x', '/metrics/x', '/events/']) {
      expect(matchRoute('GET', path)).toEqual({ status: 404 });
    }
    expect(matchRoute('POST', '/nope')).toEqual({ status: 404 });
  });

  it('serves only plain file names of the page folder', () => {
    for (const path of ['/static/..%2Fstatus-server.ts', '/static/../x', '/static/.hidden', '/static/a/b.js', '/static/%2e%2e', '/static/a%2Fb', '/static/x..js', '/static/%E0%A4%A']) {
      expect(matchRoute('GET', path)).toEqual({ status: 404 });
    }
  });
});

describe('Server-Sent Events framing', () => {
  it('writes the name, one data line per line of text, and a blank line', () => {
    expect(sseEvent('jobs', '{"jobs":[]}')).toBe('event: jobs\ndata: {"jobs":[]}\n\n');
    expect(sseEvent('x', 'a\nb\r\nc')).toBe('event: x\ndata: a\ndata: b\ndata: c\n\n');
    expect(sseEvent('x', '')).toBe('event: x\ndata: \n\n');
    expect(() => sseEvent('a\nb', '')).toThrow();
  });

  it('writes comments and the retry delay on lines of their own', () => {
    expect(sseComment('ping')).toBe(': ping\n\n');
    expect(sseComment('a\nb')).toBe(': a b\n\n');
    expect(sseRetry(2000)).toBe('retry: 2000\n\n');
  });
});

describe('authenticate', () => {
  const token = 's3cret-token';
  it('lets everyone in when the server has no token (loopback)', () => {
    expect(authenticate(undefined, {})).toEqual({ ok: true, via: 'open' });
  });

  it('takes the token from the Authorization header, the cookie, or ?token=', () => {
    expect(authenticate(token, { authorization: `Bearer ${token}` })).toEqual({ ok: true, via: 'header' });
    expect(authenticate(token, { cookie: `a=b; mr_status=${cookieSecret(token)}` })).toEqual({ ok: true, via: 'cookie' });
    expect(authenticate(token, { queryToken: token })).toEqual({ ok: true, via: 'query' });
  });

  it('refuses a missing, wrong or malformed token, and a cookie holding the token itself', () => {
    for (const given of [{}, { authorization: 'Bearer nope' }, { authorization: token }, { authorization: `Basic ${token}` }, { queryToken: '' },
      { queryToken: `${token}x` }, { cookie: `mr_status=${token}` }, { cookie: `other=${cookieSecret(token)}` }, { cookie: `mr_status=${cookieSecret('other')}` }]) {
      expect(authenticate(token, given)).toEqual({ ok: false });
    }
  });

  it('sets a cookie that does not hold the token, for the page only, out of scripts and other sites', () => {
    const cookie = sessionCookie(token);
    expect(cookie).not.toContain(token);
    expect(cookie).toMatch(/^mr_status=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookieSecret(token)).not.toBe(cookieSecret('other'));
    expect(cookieOf(' x=1 ;mr_status=abc; y=2', 'mr_status')).toBe('abc');
    expect(cookieOf(undefined, 'mr_status')).toBeUndefined();
  });

  it('drops only the token from the address it redirects to', () => {
    expect(withoutToken(new URL('http://h/?token=abc'))).toBe('/');
    expect(withoutToken(new URL('http://h/?job=j1&token=abc&x=%20'))).toBe('/?job=j1&x=+');
  });
});

describe('--http host:port', () => {
  it('parses host and port, loopback or not', () => {
    expect(parseHttpBind('--http', '127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0, loopback: true });
    expect(parseHttpBind('--http', 'localhost:8080')).toEqual({ host: 'localhost', port: 8080, loopback: true });
    expect(parseHttpBind('--http', '[::1]:9')).toEqual({ host: '::1', port: 9, loopback: true });
    expect(parseHttpBind('--http', '0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80, loopback: false });
    expect(parseHttpBind('--http', '10.1.2.3:80').loopback).toBe(false);
  });

  it('refuses what is not host:port', () => {
    for (const value of ['', '8080', ':8080', 'host:', 'host:x', 'host:70000', 'host:-1']) expect(() => parseHttpBind('--http', value)).toThrow(UsageError);
  });

  it('needs the token beyond loopback, and says so without showing any token', () => {
    expect(() => requireTokenForHttp('--http', parseHttpBind('--http', '127.0.0.1:0'), undefined)).not.toThrow();
    expect(() => requireTokenForHttp('--http', parseHttpBind('--http', '0.0.0.0:0'), 'tok')).not.toThrow();
    expect(() => requireTokenForHttp('--http', parseHttpBind('--http', '0.0.0.0:0'), undefined)).toThrow(/reachable from other machines.*--token-file/);
  });

  it('writes IPv6 hosts in brackets', () => {
    expect(formatAddress('::1', 80)).toBe('[::1]:80');
    expect(formatAddress('127.0.0.1', 80)).toBe('127.0.0.1:80');
  });
});

describe('attemptText', () => {
  const attempt = { attemptId: 'a', task: 's1.map-0', workerId: 'w', state: 'failed', error: '', log: '', startedMs: 1, endedMs: 2, backup: false };
  it('gives the error first, then what the attempt printed, ending in a newline', () => {
    expect(attemptText({ ...attempt, error: 'boom', log: 'line 1\nline 2' })).toBe('error: boom\nline 1\nline 2\n');
    expect(attemptText({ ...attempt, log: 'x\n' })).toBe('x\n');
    expect(attemptText(attempt)).toBe('');
  });
});
