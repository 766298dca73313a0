// The hypercube's master serves the workers' requests in simulated-time order: the order in which
// they reach node 0 on the timeline (ties by their senders' keys), not the order in which the node
// threads happen to deliver them. A request waits until the timeline has timed its arrival and
// nothing can still arrive before it; then the master serves it to the end (its answer sent)
// before the next. So which worker gets which task, and when, is the same run after run.
//
// A worker's long poll is served at once (waitMs 0): with nothing to hand out, it is parked, and
// offered again after each later request the master serves, its answer following that request (a
// report that freed a task, say). The master's answers bound the timeline meanwhile: it times
// nothing later than what the master may still answer at. What follows real time (a parked poll
// that times out, the shutdown at the end) is answered on a timer, outside that order. So are
// registrations, as they come: mr run submits its job once every worker has registered, and no
// worker's poll is served before that. A node not heard from for GONE_MS once the job is
// submitted (no heartbeat: cut off, or its thread held by a long call) is not waited for: the job
// goes on, and its times are then no longer the same run after run.
import { DEFAULTS } from '../../config.ts';
import type * as M from '../../wires/messages.ts';
import { codecOf } from '../../wires/proto-codec.ts';
import { MASTER_METHODS, type MasterService } from '../../wires/transport.ts';
import type { AnswerTimes } from './endpoint.ts';
import { MasterTimes } from './master-times.ts';
import type { Packet } from './packet.ts';
import type { MasterSide, MessageId, Timeline } from './timeline.ts';

interface Held {
  arrivalUs?: number;
  order?: readonly number[];
  method?: string;
  serve?: () => Promise<void>;
  /** Served as it came (a registration): it bounds the timeline only until it is answered. */
  atOnce?: boolean;
}

interface Parked {
  request: M.TaskRequest;
  since: number;
  resolve(reply: M.TaskReply): void;
}

/** How often parked polls are offered again on the real clock (the job's end, a poll's time out). */
const TICK_MS = 100;
/** A node not heard from this long (five heartbeats; the master gives a worker up after ten) is not waited for. */
const GONE_MS = 5 * DEFAULTS.heartbeatIntervalMs;

const tasksOf = (reply: M.TaskReply | null | undefined): M.Task[] => (reply ? [...(reply.task ? [reply.task] : []), ...reply.moreTasks] : []);

export class MasterGate implements MasterSide, AnswerTimes {
  readonly times = new MasterTimes();
  private readonly held = new Map<MessageId, Held>();
  /** Registrations served before the timeline had them arrive. */
  private readonly servedEarly = new Set<MessageId>();
  /** The request being served, and when it arrived. */
  private serving?: { id: MessageId; us: number };
  private lastServed?: MessageId;
  /** Answers sent and not yet heard of by the timeline, and the earliest they can leave. */
  private readonly unheard = new Map<MessageId, number>();
  /** Parked polls, by `<worker>/<request id>`. */
  private readonly parked = new Map<string, Parked>();
  /** A parked poll's answer -> what made it (the request being served then). */
  private readonly wokenBy = new Map<string, MessageId>();
  /** Each worker's last poll answered (its one slot asks again only that one): the same poll again gets the same answer. */
  private readonly answered = new Map<string, { requestId: string; reply: M.TaskReply }>();
  private onPark?: () => void;
  private jobSubmitted = false;
  private pumpQueued = false;
  private offers = 0;
  private readonly ticker: NodeJS.Timeout;
  /** When each node was last heard from (any message, heartbeats too), on the real clock. */
  private readonly heardMs: number[];
  private gone = new Set<number>();

  constructor(private readonly timeline: Timeline, private readonly handlers: MasterService) {
    timeline.master = this;
    this.heardMs = new Array<number>(timeline.nodes).fill(Date.now());
    this.ticker = setInterval(() => void this.tick(), TICK_MS);
    this.ticker.unref();
  }

  /** The master's service as node 0 serves it: polls served at once, parked when there is nothing. */
  service(): MasterService {
    return overriding(this.handlers, { requestTask: (request) => this.poll(request) });
  }

  /** mr run submitted its job: the workers' polls may be served (before, only registrations are). */
  submitted(): void {
    this.jobSubmitted = true;
    this.heardMs.fill(Date.now());
    this.pump();
  }

  /** A message from `node` reached the master. */
  heardFrom(node: number): void {
    this.heardMs[node] = Date.now();
  }

  stop(): void {
    clearInterval(this.ticker);
  }

  // AnswerTimes: when a request is served, and what its answer follows.

  admit(request: Packet, id: MessageId, serve: () => Promise<void>): void {
    const held = this.held.get(id) ?? {};
    const atOnce = request.method === 'registerWorker';
    this.held.set(id, { ...held, order: [request.src, request.order], method: request.method, serve, atOnce });
    if (atOnce) {
      void serve().finally(() => {
        if (this.held.get(id)?.arrivalUs === undefined) this.servedEarly.add(id);
        this.held.delete(id);
        this.timeline.poke();
      });
    }
    this.pump();
  }

  taken(request: Packet, id: MessageId): void {
    if (request.method === 'reportAttempt' || request.method === 'reportAttempts') {
      this.times.report(this.decodeReports(request), id);
    }
  }

  answerAfter(request: Packet, reply: Uint8Array | undefined): MessageId[] {
    let tasks: M.Task[] = [];
    let woken: MessageId | undefined;
    if (reply && request.method === 'requestTask') {
      const decoded = codecs.requestTask.decodeReply(reply) as M.TaskReply;
      tasks = tasksOf(decoded);
      const asked = codecs.requestTask.decodeRequest(request.payload) as M.TaskRequest;
      const key = `${asked.workerId}/${asked.requestId}`;
      woken = this.wokenBy.get(key);
      this.wokenBy.delete(key);
    } else if (reply && (request.method === 'reportAttempt' || request.method === 'reportAttempts')) {
      tasks = tasksOf((codecs[request.method].decodeReply(reply) as M.AttemptReportReply | M.AttemptReportsReply).next);
    }
    return [...(woken === undefined ? [] : [woken]), ...this.times.after(tasks)];
  }

  /** An answer left node 0: the timeline must hear of it before it times past when it can leave. */
  sending(id: MessageId): void {
    this.unheard.set(id, this.serving?.us ?? this.timeline.timedUs);
  }

  // MasterSide: what the timeline tells the master, and asks of it.

  arrived(id: MessageId, us: number): void {
    if (this.servedEarly.delete(id)) return;   // a registration, served as it came
    const held = this.held.get(id) ?? {};
    this.held.set(id, { ...held, arrivalUs: us });
  }

  heard(id: MessageId): void {
    this.unheard.delete(id);
  }

  owesFromUs(): number {
    let us = this.serving?.us ?? Infinity;
    for (const held of this.held.values()) if (held.arrivalUs !== undefined) us = Math.min(us, held.arrivalUs);
    for (const from of this.unheard.values()) us = Math.min(us, from);
    return us;
  }

  moved(): void {
    this.pump();
  }

  private pump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      void this.next();
    });
  }

  /** Serves the earliest request, if nothing can still come before it. */
  private async next(): Promise<void> {
    if (this.serving) return;
    let first: [MessageId, Held] | undefined;
    for (const entry of this.held) {
      const held = entry[1];
      if (held.arrivalUs === undefined || held.atOnce) continue;
      if (!first || before(held, first[1])) first = entry;
    }
    if (!first || !this.jobSubmitted) return;
    const [id, held] = first;
    // Its packet not here yet (the timeline heard of it first), or something may still come before it.
    if (!held.serve || !this.timeline.masterMayServe(held.arrivalUs!)) return;
    this.held.delete(id);
    this.serving = { id, us: held.arrivalUs! };
    await Promise.race([held.serve(), new Promise<void>((resolve) => (this.onPark = resolve))]);
    this.onPark = undefined;
    await this.offerParked(id);
    // The answers made meanwhile are emitted on this turn's microtasks: let them reach the timeline's bound first.
    await new Promise((resolve) => setImmediate(resolve));
    this.lastServed = id;
    this.serving = undefined;
    this.timeline.poke();
    this.pump();
  }

  /** A worker's poll: answered now if there is something to say, else parked. */
  private async poll(request: M.TaskRequest): Promise<M.TaskReply> {
    const key = `${request.workerId}/${request.requestId}`;
    const known = this.answered.get(request.workerId);
    if (request.requestId && known?.requestId === request.requestId) return known.reply;
    const reply = await this.offer(request);
    if (reply) return reply;
    return new Promise<M.TaskReply>((resolve) => {
      const earlier = this.parked.get(key);   // the same poll again (its first answer lost): both get the one answer
      this.parked.set(key, {
        request,
        since: earlier?.since ?? Date.now(),
        resolve: (answer) => {
          earlier?.resolve(answer);
          resolve(answer);
        },
      });
      this.onPark?.();
    });
  }

  /** The master's answer to a poll right now, or undefined if it has nothing to say yet. */
  private async offer(request: M.TaskRequest): Promise<M.TaskReply | undefined> {
    // Each offer a call of its own: the master answers a named poll once.
    const reply = await this.handlers.requestTask({ ...request, waitMs: 0, requestId: `${request.requestId}~${++this.offers}` });
    if (!reply.task && !reply.shutdown && request.waitMs > 0) return undefined;
    if (request.requestId) this.answered.set(request.workerId, { requestId: request.requestId, reply });
    return reply;
  }

  /** Offers the parked polls again (in the order they were parked); by: what made their answers. */
  private async offerParked(by: MessageId | undefined, expired = false): Promise<void> {
    for (const [key, parked] of [...this.parked]) {
      const reply = await this.offer(parked.request) ?? (expired && Date.now() - parked.since >= parked.request.waitMs ? { retryAfterMs: 0, moreTasks: [] } : undefined);
      if (!reply) continue;
      this.parked.delete(key);
      if (by !== undefined) this.wokenBy.set(key, by);
      parked.resolve(reply);
    }
  }

  /** On the real clock: what no request will bring (the end of the job, a poll's time out). */
  private async tick(): Promise<void> {
    this.checkGone();
    if (this.serving || this.parked.size === 0) return;
    this.serving = { id: this.lastServed ?? -1, us: this.timeline.timedUs };
    try {
      await this.offerParked(this.lastServed, true);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      this.serving = undefined;
      this.timeline.poke();
      this.pump();
    }
  }

  private checkGone(): void {
    if (!this.jobSubmitted) return;
    const now = Date.now();
    const gone = new Set(this.heardMs.flatMap((ms, node) => (now - ms > GONE_MS ? [node] : [])));
    if (gone.size === this.gone.size && [...gone].every((node) => this.gone.has(node))) return;
    this.gone = gone;
    this.timeline.presumeGone(gone);
    this.pump();
  }

  private decodeReports(request: Packet): string[] {
    if (request.method === 'reportAttempt') return [(codecs.reportAttempt.decodeRequest(request.payload) as M.AttemptReport).attemptId];
    return (codecs.reportAttempts.decodeRequest(request.payload) as M.AttemptReports).reports.map((r) => r.attemptId);
  }
}

/** The master's service with some methods of its own (the master is a class: its methods are not its own properties). */
export function overriding(handlers: MasterService, overrides: Partial<MasterService>): MasterService {
  const service: Record<string, unknown> = {};
  for (const method of MASTER_METHODS) {
    const call = handlers[method] as ((request: object) => Promise<object>) | undefined;
    if (call) service[method] = call.bind(handlers);
  }
  return { ...service, ...overrides } as MasterService;
}

/** Earlier arrival first; at one instant, by the senders' keys. */
function before(a: Held, b: Held): boolean {
  if (a.arrivalUs !== b.arrivalUs) return a.arrivalUs! < b.arrivalUs!;
  const ka = a.order ?? [];
  const kb = b.order ?? [];
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) if (ka[i] !== kb[i]) return ka[i] < kb[i];
  return ka.length < kb.length;
}

const codecs = {
  requestTask: codecOf('Master', 'requestTask'),
  reportAttempt: codecOf('Master', 'reportAttempt'),
  reportAttempts: codecOf('Master', 'reportAttempts'),
};
