// The master's read-only HTTP side: the status page, its JSON (/api/...), the job list as
// Server-Sent Events (/events) and Prometheus metrics (/metrics). node:http, no framework.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError, oneLine } from '../errors.ts';
import type { Logger } from '../log.ts';
import { statusJson } from '../master/status-json.ts';
import type * as M from '../wires/messages.ts';
import { formatAddress, type HttpBind } from './http-address.ts';
import { authenticate, sessionCookie, withoutToken } from './http-auth.ts';
import { JobEvents } from './job-events.ts';
import { PLACEHOLDER_PAGE, contentTypeOf, readPageFile } from './page-files.ts';
import { ALLOWED_METHODS, matchRoute, type Route } from './routes.ts';

/** What the server reads: the master's own answers to `mr status` and `mr logs` (a Master fits). */
export interface StatusSource {
  listJobs(req: M.ListJobsRequest): Promise<M.ListJobsReply>;
  getJobStatus(req: M.JobStatusRequest): Promise<M.JobStatus>;
  getJobLogs(req: M.JobLogsRequest): Promise<M.JobLogsReply>;
}

/** A Prometheus registry fits. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface StatusServerOptions {
  bind: HttpBind;
  token?: string;                // required on every request when given (a bind beyond loopback)
  source: StatusSource;
  metrics?: MetricsSource;
  log: Logger;
  pageDir?: string;
  eventPollMs?: number;
  now?: () => number;
}

export interface StatusServer {
  address: string;               // host:port, the port picked when 0 was asked
  close(): Promise<void>;
}

const HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const now = options.now ?? Date.now;
  const jobsJson = async (): Promise<string> => JSON.stringify({ jobs: (await options.source.listJobs({})).jobs.map(statusJson) });
  const events = new JobEvents({
    jobsJson, pollMs: options.eventPollMs,
    onError: (error) => options.log.warn('status events: cannot read the jobs', { error: oneLine(error) }),
  });
  const handlers: Handlers = { ...options, jobsJson, events, now };
  const server = createServer((req, res) => {
    handle(handlers, req, res).catch((error) => {
      options.log.warn('status server: request failed', { route: req.method, error: oneLine(error) });
      if (!res.headersSent) sendJson(res, 500, { error: oneLine(error) });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new UsageError(`cannot serve --http ${formatAddress(options.bind.host, options.bind.port)}: ${error.code ?? oneLine(error)}; give another host:port (port 0 picks a free one)`));
    });
    server.listen(options.bind.port, options.bind.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: formatAddress(options.bind.host, port),
    close: () => new Promise<void>((resolve) => {
      events.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

interface Handlers extends StatusServerOptions {
  jobsJson: () => Promise<string>;
  events: JobEvents;
  now: () => number;
}

async function handle(h: Handlers, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://status.invalid');
  } catch {
    return sendJson(res, 400, { error: 'bad request path' });
  }
  const auth = authenticate(h.token, { authorization: req.headers.authorization, cookie: req.headers.cookie, queryToken: url.searchParams.get('token') });
  if (!auth.ok) {
    res.setHeader('www-authenticate', 'Bearer realm="mr"');
    return sendJson(res, 401, { error: 'missing or wrong token: send Authorization: Bearer <token>, or open /?token=<token> once' });
  }
  const match = matchRoute(req.method ?? 'GET', url.pathname);
  if ('status' in match) {
    if (match.status === 405) res.setHeader('allow', ALLOWED_METHODS);
    return sendJson(res, match.status, { error: match.status === 405 ? `${req.method} is not allowed: this server is read-only (GET)` : `no such page: ${url.pathname}` });
  }
  if (match.route.name === 'page' && auth.via === 'query' && h.token !== undefined) {
    // The token leaves the address bar (and the history) at once; the cookie stands for it.
    res.setHeader('set-cookie', sessionCookie(h.token));
    res.writeHead(302, { location: withoutToken(url) });
    res.end();
    return;
  }
  return route(h, match.route, req, res);
}

async function route(h: Handlers, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  switch (route.name) {
    case 'page': {
      const page = await readPageFile('index.html', h.pageDir);
      return send(res, 200, 'text/html; charset=utf-8', page ?? PLACEHOLDER_PAGE, { 'content-security-policy': PAGE_POLICY });
    }
    case 'static': {
      const file = await readPageFile(route.file, h.pageDir);
      if (!file) return sendJson(res, 404, { error: `no such file: /static/${route.file}` });
      return send(res, 200, contentTypeOf(route.file), file, { 'content-security-policy': PAGE_POLICY });
    }
    case 'jobs':
      return send(res, 200, 'application/json; charset=utf-8', await h.jobsJson());
    case 'job': {
      const status = await jobOrUndefined(h, route.jobId);
      if (!status) return sendJson(res, 404, { error: `no job ${route.jobId} on this master` });
      const { attempts } = await h.source.getJobLogs({ jobId: route.jobId, task: '' });
      return sendJson(res, 200, { job: statusJson(status), attempts, workers: status.workers, nowMs: h.now() });
    }
    case 'attempt-log': {
      const status = await jobOrUndefined(h, route.jobId);
      const attempt = status && (await h.source.getJobLogs({ jobId: route.jobId, task: '' })).attempts.find((a) => a.attemptId === route.attemptId);
      if (!attempt) return sendJson(res, 404, { error: `no attempt ${route.attemptId} of job ${route.jobId} on this master` });
      return send(res, 200, 'text/plain; charset=utf-8', attemptText(attempt));
    }
    case 'events':
      if (req.method === 'HEAD') return send(res, 200, 'text/event-stream; charset=utf-8', '');
      return h.events.add(res);
    case 'metrics':
      if (!h.metrics) return sendJson(res, 404, { error: 'this server has no metrics' });
      return send(res, 200, h.metrics.contentType, await h.metrics.metrics());
  }
}

/** An attempt's error (if any), then what it printed. */
export function attemptText(attempt: M.AttemptLog): string {
  const error = attempt.error ? `error: ${attempt.error}\n` : '';
  const log = attempt.log && !attempt.log.endsWith('\n') ? `${attempt.log}\n` : attempt.log;
  return error + log;
}

async function jobOrUndefined(h: Handlers, jobId: string): Promise<M.JobStatus | undefined> {
  try {
    return await h.source.getJobStatus({ jobId });
  } catch (error) {
    if (error instanceof UsageError) return undefined; // no such job
    throw error;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': bytes.length });
  res.end(bytes);
}
