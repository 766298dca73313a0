// `mr run`: submits a job (to a master it starts itself, or to --master), follows it to the
// end with progress on stderr, and reports the result. Ctrl-C kills the job and cleans up.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../config.ts';
import { EXIT, JobFailedError, MasterUnreachableError, UsageError, oneLine } from '../errors.ts';
import { createLogger } from '../log.ts';
import { reached } from '../process-stats.ts';
import { Master } from '../master/master.ts';
import type { ProcessRecord } from '../master/process-table.ts';
import { removeAttemptLeftovers } from '../master/stage-output.ts';
import { COUNTER } from '../core/counters.ts';
import { type BackendReport, type MasterClient } from '../wires/index.ts';
import { MASTER_METHODS } from '../wires/transport.ts';
import { ChaosNode, type ChaosSettings } from '../wires/chaos/chaos-node.ts';
import { chaosSummary } from './chaos-args.ts';
import { countingMaster, type MessageCount } from './counting-master.ts';
import type { AttemptLog, JobStatus } from '../wires/messages.ts';
import { saveJobRecord } from '../storage/job-history.ts';
import { HISTORY_JOBS } from './history-dir.ts';
import { callMaster } from './master-call.ts';
import { Progress } from './progress.ts';
import type { RunConfig } from './run-config.ts';
import { backendNamed, createTransport } from '../backends/index.ts';
import { uberBackend } from '../backends/uber-backend.ts';
import { transportOver } from '../wires/over-wire.ts';
import type { EarlyWorkers } from './early-workers.ts';

export interface RunOutcome {
  status: JobStatus;
  backend: BackendReport;
  chaos?: Record<string, unknown>;   // under --chaos: what it did, summed over the nodes
  attempts?: AttemptLog[];           // of a failed job: every attempt, to show what the failing one printed
}

/** early: worker processes started before the configuration was checked (early-workers.ts), when they fit it. */
export async function runJob(config: RunConfig, progress: Progress, early?: EarlyWorkers): Promise<RunOutcome> {
  if (config.master) {
    const remote = createTransport(config.transport, { token: config.token, tls: config.tls })!;
    const client = remote.connectMaster(config.master);
    const status = await submitAndFollow(client, config.jobId, config, progress);
    // Another process's master: only what the job's counters tell.
    const bytes = status.stages.reduce((sum, stage) => sum + (stage.counters[COUNTER.shuffleBytes] ?? 0), 0);
    const attempts = status.state === 'failed' ? await client.getJobLogs({ jobId: status.jobId, task: '' }).then((r) => r.attempts, () => undefined) : undefined;
    return { status, backend: { name: config.transport, nodes: status.workers.filter((w) => w.alive).length, messages: 0, bytes }, attempts };
  }
  // Even on loopback, the embedded cluster only answers to its own processes.
  const token = early?.token ?? randomBytes(18).toString('base64url');
  // Every process of the run counts partition windows from now (see chaos-node.ts).
  const chaos: ChaosSettings | undefined = config.chaos && { ...config.chaos, epochMs: Date.now() };
  const asked = backendNamed(config.transport);
  if (!asked) throw new UsageError(`no backend ${config.transport}`);
  // A tiny job runs uber: one worker in this process, over the memory wire (uber-mode.ts).
  const backend = config.uber ? uberBackend(asked) : asked;
  const transportOf = (node: string) => transportOver(
    backend.wire({ token, tls: config.tls, nodes: config.nodes, tuning: config.tuning }), chaos && new ChaosNode(chaos, node),
  );
  const transport = transportOf('master');
  const { machine } = transport;
  const workRoot = early?.workRoot ?? await mkdtemp(join(tmpdir(), 'mr-run-'));
  // A second Ctrl-C exits at once, before the finally below: worker processes are killed and the
  // work dir removed on the way out (after the kill, no worker writes into it any more).
  let workerPids = (): number[] => [];
  const dropWorkRoot = early?.drop ?? ((): void => {
    for (const pid of workerPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    rmSync(workRoot, { recursive: true, force: true });
  });
  if (!early) process.once('exit', dropWorkRoot); // early workers' own is in place already
  const jobEnd = new JobEnd();
  const processListeners: ((record: ProcessRecord) => void)[] = [];
  const http = config.http && (await import('../http/master-http.ts')).prepareMasterHttp(config.http.bind, config.http.token);
  const master = new Master({
    log: createLogger({ component: 'master', file: join(workRoot, 'master.log') }), nodes: machine?.nodes, onJobEnd: jobEnd.notify,
    chaosCounts: () => transport.chaos?.counts, onAttemptEnd: http?.onAttemptEnd, taskTimeoutMs: config.taskTimeoutMs,
    workerTimeoutMs: config.workerTimeoutMs, onProcess: (record) => processListeners.forEach((listen) => listen(record)),
  });
  // Counted where the transport encodes them if it does (grpc); else as their proto encoding would be.
  const counted: MessageCount = transport.masterTraffic ?? { messages: 0, bytes: 0 };
  const server = await transport.serveMaster(machine || transport.masterTraffic ? master : countingMaster(master, counted), '127.0.0.1:0');
  reached('ready');
  let workersGone: string | undefined;
  const pool = backend.pool({
    transport, transportOf, masterAddress: server.address, workRoot, token, workers: config.workers, tuning: config.tuning ?? {},
    tlsFlags: config.tlsFlags, workerHeapMib: config.workerHeapMib, autoscale: config.autoscale, chaos, early: early?.pool,
    workerProcessDied: (pid, death) => void master.workerProcessDied(pid, death), nodesBusy: (nodes) => master.nodesBusy(nodes),
    workerLost: (workerId, reason) => void master.workerLost(workerId, reason), ...(config.etcd ? { etcd: config.etcd } : {}),
    onProcess: (listen) => processListeners.push(listen),
    onGone: (why) => (workersGone = why),
  });
  if (pool.pids) workerPids = () => pool.pids!();
  // This process follows its own master by calling it, not over a socket to itself; under chaos
  // and on the simulated machines, through the transport like every other call.
  const client = chaos || machine ? transport.connectMaster(server.address) : inProcessClient(master);
  const { jobId } = config;
  try {
    if (http) {
      const address = await http.start(master, createLogger({ component: 'http', file: join(workRoot, 'master.log') }));
      if (!config.quiet) process.stderr.write(`mr: status page http://${address}/\n`);
    }
    await pool.start();
    const status = await submitAndFollow(client, jobId, config, progress, () => workersGone, jobEnd);
    const attempts = status.state === 'failed' ? (await master.getJobLogs({ jobId, task: '' })).attempts : undefined;
    const chaosReport = chaos && { chaos: chaosSummary(chaos, status.processes) };
    const shuffledBytes = status.stages.reduce((sum, stage) => sum + (stage.counters[COUNTER.shuffleBytes] ?? 0), 0);
    const report = await backend.report(pool, {
      transport, workers: config.workers, messages: counted.messages, bytes: counted.bytes, shuffledBytes,
      trace: () => master.trace(status.jobId) ?? { stages: [] }, migrations: master.migrations, resumes: master.resumes, processes: status.processes,
    });
    return { status, attempts, backend: report, ...chaosReport };
  } finally {
    master.shutdownWorkers();
    await pool.stop(DEFAULTS.workerStopGraceMs);
    await removeAttemptLeftovers(config.outputDir); // a losing attempt's temp file, once no worker can write
    // Once no worker runs: every attempt has reported, or never will.
    await keepHistory(master, jobId, config.historyDir);
    client.close();
    master.stop();
    await Promise.all([server.stop(), http?.close()]);
    await rm(workRoot, { recursive: true, force: true });
    process.off('exit', dropWorkRoot);
  }
}

/** The master's own methods as a client of it, in this process. */
function inProcessClient(master: Master): MasterClient {
  const client: Record<string, unknown> = { close: () => {} };
  for (const method of MASTER_METHODS) client[method] = (request: object) => (master[method] as (request: object) => Promise<object>).call(master, request);
  return client as unknown as MasterClient;
}

const interrupt: { requested: boolean; atOnce?: () => void } = { requested: false };

/** Whether Ctrl-C or SIGTERM came. */
export function interrupted(): boolean {
  return interrupt.requested;
}

/**
 * Ctrl-C or SIGTERM: the job being followed is killed; a second one exits at once (exit 1, a
 * killed job), running the undo given to onExitAtOnce after every exit handler registered before
 * it: those kill the workers, which must be gone before their output is removed.
 */
export function onInterrupt(): void {
  if (interrupt.requested) {
    if (interrupt.atOnce) process.once('exit', interrupt.atOnce);
    process.exit(EXIT.jobFailed);
  }
  interrupt.requested = true;
}

/** What a second Ctrl-C or SIGTERM undoes on its way out (synchronous: it runs as the process exits). */
export function onExitAtOnce(undo: () => void): void {
  interrupt.atOnce = undo;
}

/**
 * The job's final status and every attempt's log, kept past the run (see history-dir.ts). A job
 * never submitted has none; a history that cannot be written costs a warning, not the job's result.
 */
async function keepHistory(master: Master, jobId: string, historyDir: string | undefined): Promise<void> {
  if (!historyDir || !master.hasJob(jobId)) return;
  try {
    // A run cut short (its workers gone, say) leaves no job running behind it: the record says killed.
    await master.killJob({ jobId });
    const [status, { attempts }] = await Promise.all([master.getJobStatus({ jobId }), master.getJobLogs({ jobId, task: '' })]);
    await saveJobRecord(historyDir, { status, attempts }, HISTORY_JOBS);
  } catch (error) {
    process.stderr.write(`mr: the job's history could not be kept in ${historyDir}: ${oneLine(error)}\n`);
  }
}

async function submitAndFollow(
  client: MasterClient, jobId: string, config: RunConfig, progress: Progress, fatal?: () => string | undefined, jobEnd?: JobEnd,
): Promise<JobStatus> {
  await unreachableAs3(config, () => client.submitJob({ jobId, stages: config.stages }));
  if (config.master) progress.message(`job ${jobId}`); // the job's handle for mr status/kill/logs, even with --quiet
  let killed = false;
  for (;;) {
    const status = await followThroughOutages(config, progress, () => client.getJobStatus({ jobId }));
    progress.update(status);
    if (['succeeded', 'failed', 'killed'].includes(status.state)) return status;
    const why = fatal?.();
    if (why) {
      await client.killJob({ jobId });
      throw new JobFailedError(`${why}; the job was stopped`);
    }
    if (interrupt.requested && !killed) {
      killed = true;
      await client.killJob({ jobId });
    }
    await (jobEnd ? jobEnd.pause(DEFAULTS.statusPollMs) : new Promise((resolve) => setTimeout(resolve, DEFAULTS.statusPollMs)));
  }
}

/**
 * The word of `mr run`'s own master that its job ended: the follower asks for the final status at
 * once, not at its next poll (up to statusPollMs later, a good part of a small job's time).
 */
class JobEnd {
  private ended = false;
  private wake?: () => void;

  readonly notify = (): void => {
    this.ended = true;
    this.wake?.();
  };

  /** Waits ms, or less when the job ends meanwhile (or has ended already). */
  pause(ms: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * A master that goes away (restarting, say) is waited for: the status call is retried for up to
 * masterWaitMs, then it is an unreachable master (exit 3).
 */
async function followThroughOutages<T>(config: RunConfig, progress: Progress, call: () => Promise<T>): Promise<T> {
  const since = Date.now();
  let warned = false;
  for (;;) {
    try {
      const value = await unreachableAs3(config, call);
      if (warned && !config.quiet) progress.message('mr: the master is back; following the job again');
      return value;
    } catch (error) {
      if (!(error instanceof MasterUnreachableError) || Date.now() - since > DEFAULTS.masterWaitMs) throw error;
      if (!warned && !config.quiet) progress.message(`mr: ${oneLine(error)}; retrying for up to ${DEFAULTS.masterWaitMs / 1000} s`);
      warned = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function unreachableAs3<T>(config: RunConfig, call: () => Promise<T>): Promise<T> {
  return callMaster(config.master ?? '(embedded)', call);
}
