// The worker daemon: registers with the master, runs up to `slots` attempts at once (long-poll
// for tasks), heartbeats, and serves its map outputs to reducers.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdir, rm } from 'node:fs/promises';
import { AuthError, MasterUnreachableError, oneLine } from '../errors.ts';
import type { Logger } from '../log.ts';
import { processStats, reached } from '../process-stats.ts';
import type * as M from '../wires/messages.ts';
import type { AttemptFigures } from '../core/progress.ts';
import type { MasterClient, Server, Transport, WorkerClient } from '../wires/transport.ts';
import { isUnavailable } from '../wires/unavailable.ts';
import type { FileNamespace, FileNamespaceFactory } from './file-namespace.ts';
import { gateFor } from './pause-gate.ts';
import type { MapOutputStore } from '../storage/map-output-store.ts';
import { MemoryFirstOutputStore } from './memory-first-store.ts';
import { failedOutcome, runAttempt, type AttemptIo, type AttemptOutcome } from './attempt-runner.ts';
import { framedOutputs } from './batched-fetch.ts';
import { removeOrphanCheckpoints, type CheckpointIo } from './map-checkpoint.ts';
import { StallWatchdog, lastWords, type WatchedAttempt } from './stall-watchdog.ts';
import { attemptLabel, stallReason } from '../core/task-timeout.ts';
import type { PulseRecipe } from './stall-watchdog.ts';

export interface WorkerOptions {
  /** The master's host:port; or its promise, when it is not known yet at start (it may come on stdin). */
  masterAddress: string | Promise<string>;
  workDir: string;
  slots: number;
  transport: Transport;
  log: Logger;
  listenHost?: string;
  listenPort?: number;           // default 0: a free one
  masterGiveUpMs?: number;       // exit when the master has been unreachable this long
  node?: number;                 // its node on a simulated machine
  /** Where map outputs go (default: a MemoryFirstOutputStore under workDir/map-out). */
  store?: MapOutputStore;
  /**
   * A file namespace the backend's workers share (ssi's /cluster): map outputs are read by their
   * path through it, and this worker serves its files of it (ReadFile). Without one, each map
   * output is fetched from the worker that has it, and ReadFile is not served.
   */
  files?: FileNamespaceFactory;
  /** A dispatcher: tasks are not run here but sent on (to the balancer), and their reports come back. */
  remote?: (task: M.Task, workerId: string, signal: AbortSignal) => Promise<M.AttemptReport>;
  /**
   * A watchdog thread that kills this process when a job function blocks its event loop past the
   * task timeout: for a worker process of its own only (in-process workers share theirs with mr run).
   */
  watchdog?: boolean;
  /**
   * With watchdog: how its thread reaches the master for the worker (this backend, its token and
   * TLS) to keep it alive while one call of a job function holds the event loop.
   */
  pulse?: Omit<PulseRecipe, 'masterAddress' | 'workerId'>;
  /** ssi: the cluster's process table from this node's mirror of the agreed state (served as ListProcesses). */
  processes?: (req: M.ListProcessesRequest) => Promise<M.ListProcessesReply>;
  /** ssi: cluster-wide locks for job code (ctx.lock in setup and cleanup), kept in etcd. */
  locks?: (name: string) => Promise<() => Promise<void>>;
  /** ssi: what keeping its view of the agreed state has cost this node so far (in its process figures). */
  agreement?: () => M.AgreementCounts;
}

const LONG_POLL_MS = 5000;
/** A slot takes up to this many tasks at once; the master decides how many are worth batching (task-batch.ts). */
const BATCH_TASKS = 64;
/** A cancelled attempt gets this long to end by itself; then its slot is freed (its function may never return). */
const CANCEL_GRACE_MS = 1000;
const ABANDONED = 'was cancelled and did not stop; abandoned';

export class Worker {
  readonly id: string;
  private readonly store: MapOutputStore;
  /** The attempts this worker holds: running, or given in a batch and waiting their turn (queued). */
  private readonly running = new Map<string, AbortController>();
  private readonly queued = new Map<string, WatchedAttempt>();
  private readonly watched = new Map<string, WatchedAttempt>();
  private watchPending?: NodeJS.Immediate;
  private watchdog?: StallWatchdog;
  private readonly progress = new Map<string, AttemptFigures>(); // of the running attempts, for heartbeats
  private readonly peers = new Map<string, WorkerClient>();
  /** Workers the master last said are presumed dead, and the signals of fetches from the others. */
  private gonePeers = new Set<string>();
  private readonly goneWatch = new Map<string, AbortController>();
  private master!: MasterClient;
  private masterAddress = '';
  private server!: Server;
  private heartbeatTimer?: NodeJS.Timeout;
  private stopping = false;
  private lastContactMs = Date.now();
  private node?: number;
  private requests = 0;
  private readonly files?: FileNamespace;
  stopped!: Promise<void>;

  constructor(private readonly options: WorkerOptions) {
    const node = options.node === undefined ? '' : `-n${options.node}`;
    this.id = `w-${hostname()}-${process.pid}${node}-${randomBytes(3).toString('hex')}`;
    // Small outputs stay in memory unless the backend keeps them elsewhere (see MemoryFirstOutputStore).
    this.store = options.store ?? new MemoryFirstOutputStore(join(options.workDir, 'map-out'));
    this.files = options.files?.({ node: () => this.node, master: () => this.master });
    const files = this.files;
    this.checkpointIo = {
      root: join(options.workDir, CHECKPOINTS), clusterRoot: CHECKPOINTS, host: hostname(), node: () => this.node ?? 0,
      ...(files ? { open: (path: string) => files.open(path) } : {}),
    };
  }

  /** Where its map attempts checkpoint; a resumed attempt reads another node's through the namespace, when there is one. */
  private readonly checkpointIo: CheckpointIo;

  async start(): Promise<void> {
    await rm(this.store.root, { recursive: true, force: true }); // outputs of an earlier life of this worker are no one's now
    // Its checkpoints are kept: an attempt moved elsewhere may resume from one. Old ones go.
    await removeOrphanCheckpoints(this.checkpointIo.root);
    await mkdir(join(this.options.workDir, 'reduce-in'), { recursive: true });
    const { files } = this;
    this.server = await this.options.transport.serveWorker(
      {
        fetchPartition: (req) => this.store.read(req.outputId, req.partition),
        fetchPartitions: (req) => framedOutputs(req.outputIds.map((id) => () => this.store.read(id, req.partition))),
        ...(files ? { readFile: (req: M.ReadFileRequest) => files.serve(req.path) } : {}),
        ...(this.options.processes ? { listProcesses: this.options.processes } : {}),
      },
      `${this.options.listenHost ?? '127.0.0.1'}:${this.options.listenPort ?? 0}`,
    );
    this.masterAddress = await this.options.masterAddress;   // the shuffle service serves meanwhile
    this.lastContactMs = Date.now();
    this.master = this.options.transport.connectMaster(this.masterAddress);
    const { heartbeatIntervalMs, taskTimeoutMs } = await this.register();
    // A dispatcher runs no job code here; the servers behind the balancer do.
    const lastWordsPath = join(this.options.workDir, 'stalled-attempts.json');
    if (this.options.watchdog) await this.reportStalled(lastWordsPath);
    if (this.options.watchdog && !this.options.remote) {
      const { pulse } = this.options;
      this.watchdog = new StallWatchdog({
        timeoutMs: taskTimeoutMs ?? 0, reason: stallReason(taskTimeoutMs ?? 0), lastWordsPath,
        ...(pulse ? { pulse: { recipe: { ...pulse, masterAddress: this.masterAddress, workerId: this.id }, intervalMs: heartbeatIntervalMs } } : {}),
      });
    }
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), heartbeatIntervalMs);
    const loops = Array.from({ length: this.options.slots }, () => this.slotLoop());
    this.stopped = Promise.all(loops).then(() => this.shutdown());
  }

  private async register(): Promise<M.RegisterWorkerReply> {
    const { node } = this.options;
    const request = { workerId: this.id, address: this.server.address, slots: this.options.slots, pid: process.pid, hasNode: node !== undefined, node: node ?? 0 };
    for (;;) {
      try {
        const reply = await this.master.registerWorker(request);
        this.lastContactMs = Date.now();
        this.node = reply.node;
        reached('ready');
        this.options.log.info('registered', { workerId: this.id, address: this.server.address });
        return reply;
      } catch (error) {
        if (error instanceof AuthError) throw error; // retrying will not fix a wrong secret
        this.checkMasterGone(error);
        await sleep(500);
      }
    }
  }

  private checkMasterGone(error: unknown): void {
    const giveUpMs = this.options.masterGiveUpMs ?? 60_000;
    if (Date.now() - this.lastContactMs > giveUpMs) {
      throw new MasterUnreachableError(`master ${this.masterAddress} unreachable for ${Math.round(giveUpMs / 1000)} s: ${oneLine(error)}`);
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      // A dispatcher's attempts run behind the balancer: their progress is not seen here.
      const progressUnknown = !!this.options.remote;
      const progress: M.AttemptProgress[] = [...this.progress].map(([attemptId, { inputBytesRead = 0, outputsFetched = 0, records = 0, checkpoint = null }]) => (
        { attemptId, inputBytesRead, outputsFetched, records, progressUnknown, queued: false, checkpoint }));
      for (const attemptId of this.queued.keys()) progress.push({ attemptId, inputBytesRead: 0, outputsFetched: 0, records: 0, progressUnknown, queued: true, checkpoint: null });
      const reply = await this.master.heartbeat({ workerId: this.id, runningAttempts: [...this.running.keys()], stats: this.stats(), progress, busy: false });
      this.lastContactMs = Date.now();
      for (const id of reply.cancelAttempts) this.running.get(id)?.abort();
      this.peersGone(reply.goneWorkers ?? []);
      const paused = new Set(reply.pausedAttempts);
      for (const [id, controller] of this.running) gateFor(controller.signal).set(paused.has(id));
      if (reply.reregister && !this.stopping) await this.register();
    } catch (error) {
      this.options.log.warn('heartbeat failed', { error: oneLine(error) });
    }
  }

  private stats(): M.ProcessStats {
    // A dispatcher's calls pass through the chaos layer of the process it shares with the master, counted there.
    return processStats(this.options.remote ? 'dispatcher' : 'worker', this.id, this.options.remote ? undefined : this.options.transport.chaos?.counts, this.options.agreement?.());
  }

  private async slotLoop(): Promise<void> {
    let next: M.TaskReply | undefined; // what the last reports' reply brought
    // A request whose reply did not come is asked again under the same id: the master answers it
    // with the reply it gave it (a task or a batch, maybe), never with a second one.
    let requestId: string | undefined;
    const maxTasks = this.options.remote ? 1 : BATCH_TASKS;
    while (!this.stopping) {
      let reply: M.TaskReply;
      try {
        if (next) {
          reply = next;
          next = undefined;
        } else {
          requestId ??= String(this.requests++);
          reply = await this.master.requestTask({ workerId: this.id, waitMs: LONG_POLL_MS, requestId, maxTasks });
          requestId = undefined;
        }
        this.lastContactMs = Date.now();
      } catch (error) {
        try {
          this.checkMasterGone(error);
        } catch (gone) {
          this.options.log.error('giving up', { error: oneLine(gone) });
          this.stopping = true;
          return;
        }
        await sleep(500);
        continue;
      }
      if (reply.shutdown) this.stopping = true;
      else if (reply.task) next = await this.runBatch([reply.task, ...(reply.moreTasks ?? [])], maxTasks);
      else if (reply.retryAfterMs) await sleep(reply.retryAfterMs);
    }
  }

  /**
   * Runs a batch's attempts one after another and reports them together; returns the slot's next
   * task or batch if the reply brought one. Every attempt of the batch is held (its lease renewed
   * by heartbeats, cancellable) from now on; one cancelled before its turn is not run. A worker
   * that stops leaves the rest unrun and unreported: the master gives them to others once it sees
   * this worker gone, as it does a dead worker's.
   */
  private async runBatch(tasks: readonly M.Task[], maxTasks: number): Promise<M.TaskReply | undefined> {
    const controllers = tasks.map((task) => {
      const controller = new AbortController();
      this.running.set(task.attemptId, controller);
      return controller;
    });
    for (const task of tasks.slice(1)) this.queued.set(task.attemptId, { attemptId: task.attemptId, label: attemptLabel(task.kind, task.taskIndex, task.attemptId) });
    const reports: M.AttemptReport[] = [];
    for (const [i, task] of tasks.entries()) {
      if (this.stopping && i > 0) {
        for (const rest of tasks.slice(i)) this.forget(rest.attemptId);
        break;
      }
      this.queued.delete(task.attemptId);
      reports.push(await this.runAttempt(task, controllers[i]));
    }
    const reply = await this.deliverAll(reports, this.stopping ? 0 : maxTasks);
    return reply?.task || reply?.shutdown ? reply : undefined;
  }

  private forget(attemptId: string): void {
    this.running.delete(attemptId);
    this.queued.delete(attemptId);
    this.progress.delete(attemptId);
    this.watchSoon();
  }

  /** Runs the attempt (unless it was cancelled while it waited its turn); returns its report. */
  private async runAttempt(task: M.Task, controller: AbortController): Promise<M.AttemptReport> {
    reached('firstTask');
    const progress: AttemptFigures = {};
    this.progress.set(task.attemptId, progress);
    this.watched.set(task.attemptId, { attemptId: task.attemptId, label: attemptLabel(task.kind, task.taskIndex, task.attemptId) });
    this.watch();
    const running = controller.signal.aborted ? Promise.resolve(failedOutcome(task.attemptId, `attempt ${task.attemptId} was cancelled before it started`))
      : this.options.remote ? this.runRemote(task, controller.signal) : runAttempt(task, this.io, controller.signal, progress);
    const { stats = this.stats(), ...outcome }: AttemptOutcome & { stats?: M.ProcessStats } = await untilCancelled(task.attemptId, controller.signal, running);
    // An abandoned attempt that ends after all leaves no map output behind.
    if (outcome.error.endsWith(ABANDONED)) {
      void running.then(async (late) => {
        if (late.ok && late.outputId) await this.store.remove(late.outputId);
      }).catch(() => {});
    }
    this.watched.delete(task.attemptId);
    this.forget(task.attemptId);
    const report: M.AttemptReport = { ...outcome, workerId: this.id, stats, wantTask: false, ownDeath: false };
    if (!report.ok) this.options.log.warn('attempt failed', { attemptId: task.attemptId, error: report.error });
    return report;
  }

  /**
   * Delivers a batch's reports in one call, named so that a retry gets the same reply (the same
   * next batch); a rejected attempt's output is removed. wantTasks: the slot's next batch may ride
   * on the reply. Retried as deliver retries a single report.
   */
  private async deliverAll(reports: M.AttemptReport[], wantTasks: number): Promise<M.TaskReply | undefined> {
    if (reports.length === 0) return undefined;
    const request: M.AttemptReports = { workerId: this.id, reports, wantTasks, requestId: String(this.requests++) };
    const reply = await this.untilHeard(reports[0].attemptId, () => this.master.reportAttempts(request));
    if (!reply) return undefined;
    // What the master acknowledged, for a test that kills it to hold against its journal.
    this.options.log.debug('reports taken', { accepted: reports.filter((_, i) => reply.accepted[i]).map((report) => report.attemptId) });
    await Promise.all(reports.map(async (report, i) => {
      if (reply.accepted[i] === false && report.outputId) await this.store.remove(report.outputId);
    }));
    return reply.next ?? undefined;
  }

  /**
   * Reports until the master hears it: a report is idempotent (deduplicated by attempt id), and
   * one that never arrives costs a whole lease, so an unreachable master (a partition, a restart)
   * is waited out like a long one, up to masterGiveUpMs.
   */
  private deliver(report: M.AttemptReport): Promise<M.AttemptReportReply | undefined> {
    return this.untilHeard(report.attemptId, () => this.master.reportAttempt(report));
  }

  private async untilHeard<T>(attemptId: string, call: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      try {
        const reply = await call();
        this.lastContactMs = Date.now();
        return reply;
      } catch (failure) {
        this.options.log.warn('report failed', { attemptId, error: oneLine(failure) });
        if (!isUnavailable(failure) || this.stopping) return undefined;
        try {
          this.checkMasterGone(failure);
        } catch {
          return undefined;
        }
        await sleep(500);
      }
    }
  }

  /**
   * A dispatcher's attempt: run by a server behind the balancer; its failure to answer is the
   * attempt's. The server's own figures (its process, its chaos layer) go to the master with the report.
   */
  private async runRemote(task: M.Task, signal: AbortSignal): Promise<AttemptOutcome & { stats?: M.ProcessStats }> {
    try {
      const { workerId: _server, stats, ...outcome } = await this.options.remote!(task, this.id, signal);
      return { ...outcome, ...(stats ? { stats } : {}) };
    } catch (error) {
      return failedOutcome(task.attemptId, oneLine(error));
    }
  }

  /**
   * The attempts an earlier life of this worker (on this work dir) was killed for by its watchdog
   * fail with that reason: the master may have given them up for lost, not failed, in the meantime.
   */
  private async reportStalled(path: string): Promise<void> {
    const words = await lastWords(path);
    for (const { attemptId, label } of words?.attempts ?? []) {
      const error = `${label} ${words!.reason}`;
      this.options.log.warn('attempt failed', { attemptId, error });
      await this.deliver({ ...failedOutcome(attemptId, error), workerId: this.id, stats: null, wantTask: false, ownDeath: true });
    }
  }

  /** Tells the watchdog what runs now and what waits its turn. */
  private watch(): void {
    if (this.watchPending) clearImmediate(this.watchPending);
    this.watchPending = undefined;
    this.watchdog?.watch([...this.watched.values()], [...this.queued.values()]);
  }

  /**
   * The list after an attempt ended: written once the loop is free, unless the next attempt of a
   * batch starts first and writes it (the loop can only be held inside an attempt, which writes
   * the list as it starts).
   */
  private watchSoon(): void {
    this.watchPending ??= setImmediate(() => this.watch());
  }

  private get io(): AttemptIo {
    return {
      store: this.store,
      scratchDir: join(this.options.workDir, 'reduce-in'),
      // With its own store, a worker holds only the outputs it made: another's is not looked for
      // here (a stat each, thousands of them). A store handed in may hold any node's (butterfly).
      ...(this.options.store ? {} : { mayHold: (output: M.MapOutput) => output.workerAddress === this.server.address }),
      fetch: (output, partition) => this.fetch(output, partition),
      // Through the file namespace (ssi) an output is a path, read on its own.
      ...(this.files ? {} : { fetchMany: (outputs: readonly M.MapOutput[], partition: number) => this.peer(outputs[0].workerAddress).fetchPartitions?.({ outputIds: outputs.map((o) => o.outputId), partition }) }),
      forget: (address) => this.forgetPeer(address),
      gone: (address) => this.goneSignal(address),
      commit: async (attemptId) => (await this.master.commitAttempt({ workerId: this.id, attemptId })).allowed,
      ...(this.options.locks ? { lock: this.options.locks } : {}),
      checkpoints: this.checkpointIo,
    };
  }

  /** A map output's partition: by its path through the file namespace if there is one, else from the worker that has it. */
  private fetch(output: M.MapOutput, partition: number): AsyncIterable<Buffer> {
    if (this.files && output.path) return this.files.open(`${output.path}/r-${partition}`);
    return this.peer(output.workerAddress).fetchPartition({ outputId: output.outputId, partition });
  }

  private forgetPeer(address: string): void {
    this.peers.get(address)?.close();
    this.peers.delete(address);
  }

  /** Aborted once the master says the worker at the address is presumed dead (at once, if it has said so). */
  private goneSignal(address: string): AbortSignal {
    if (this.gonePeers.has(address)) return AbortSignal.abort();
    let controller = this.goneWatch.get(address);
    if (!controller) this.goneWatch.set(address, (controller = new AbortController()));
    return controller.signal;
  }

  /** The workers the master presumes dead lately (its heartbeat's reply): what is fetched from them fails now. */
  private peersGone(addresses: readonly string[]): void {
    this.gonePeers = new Set(addresses);
    for (const address of addresses) {
      this.goneWatch.get(address)?.abort();
      this.goneWatch.delete(address);
      this.forgetPeer(address);
    }
  }

  private peer(address: string): WorkerClient {
    let client = this.peers.get(address);
    if (!client) {
      client = this.options.transport.connectWorker(address);
      this.peers.set(address, client);
    }
    return client;
  }

  /** Stops taking tasks; running attempts are cancelled. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort();
    await this.stopped;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    await this.watchdog?.stop();
    for (const client of this.peers.values()) client.close();
    this.files?.close();
    this.master.close();
    await this.server.stop();
  }
}

/**
 * The attempt's outcome, or a failed one once it was cancelled and has not ended within
 * CANCEL_GRACE_MS: a job function that awaits forever must not hold the slot for good.
 */
function untilCancelled<T extends AttemptOutcome>(attemptId: string, signal: AbortSignal, outcome: Promise<T>): Promise<T | AttemptOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<AttemptOutcome>((resolve) => {
    const give = () => {
      timer = setTimeout(() => resolve(failedOutcome(attemptId, `attempt ${attemptId} ${ABANDONED}`)), CANCEL_GRACE_MS);
    };
    if (signal.aborted) give();
    else signal.addEventListener('abort', give, { once: true });
  });
  return Promise.race([outcome, abandoned]).finally(() => clearTimeout(timer));
}

/** The work directory's directory of map checkpoints. */
const CHECKPOINTS = 'checkpoints';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
