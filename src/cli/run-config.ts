// Turns `mr run` arguments into a checked RunConfig: job modules loaded, input globs expanded,
// output directory checked. Any problem is a UsageError (exit 2) and nothing is submitted.
import { checkTransportName } from './transport-arg.ts';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { DEFAULTS, MIB } from '../config.ts';
import type { JobDefinition, PrepareInput } from '../core/job.ts';
import { UsageError, oneLine } from '../errors.ts';
import { checkInputsAreText } from '../storage/input-kind.ts';
import { claimOutputDir, dropClaim, type OutputClaim } from '../storage/output-dir.ts';
import { type MachineTuning, type Transport } from '../wires/index.ts';
import { backendNamed, createTransport, transportNames, type RunShape } from '../backends/index.ts';
import type { JobSpec } from '../wires/messages.ts';
import { loadJob } from '../worker/job-loader.ts';
import { namedNodes } from '../wires/chaos/chaos-spec.ts';
import { readChaos, type ChaosArgs, type ChaosChoice } from './chaos-args.ts';
import type { Autoscale } from '../backends/horizontal/cluster.ts';
import { readToken, type TokenArgs } from './token-args.ts';
import { parseHttpBind, requireTokenForHttp, type HttpBind } from '../http/http-address.ts';
import { readTls, tlsFlags, type TlsArgs } from './tls-args.ts';
import { etcdBinary, parseEtcdEndpoints } from '../backends/ssi/etcd-member.ts';
import type { TlsMaterial } from '../wires/grpc/credentials.ts';
import { historyOutside } from './history-dir.ts';
import { runsOnlyBuiltins, runsUber } from './uber-mode.ts';
import { expandInputs } from './input-files.ts';
import { isObjectUrl, parseObjectUrl } from '../storage/object-store.ts';

export interface RunArgs extends TokenArgs, TlsArgs, ChaosArgs {
  jobs: string[];
  input?: string[];
  output?: string;
  reducers?: number;
  workers?: number;
  transport?: string;
  master?: string;
  speculation?: boolean;
  packing?: boolean;
  json?: boolean;
  quiet?: boolean;
  set?: string[];
  splitMib?: number;
  sortBufferMib?: number;
  checkpointMs?: number;
  s3Endpoint?: string;
  maxAttempts?: number;
  nodes?: number;
  report?: boolean;
  autoscale?: string;
  preset?: string;
  etcd?: string;
  linkLatencyUs?: number;
  linkMbPerS?: number;
  nodeMbPerS?: number;
  moduleMib?: number;
  localNsPerByte?: number;
  remoteNsPerByte?: number;
  stageNs?: number;
  http?: string;
  taskTimeout?: number;
  workerHeapMib?: number;
  workerTimeoutMs?: number;
  binaryOk?: boolean;
  uber?: boolean;                // false: --no-uber
}

export interface RunConfig {
  jobId: string;                 // named before the output is claimed: the claim records it
  stages: JobSpec[];
  outputDir: string;
  output?: OutputClaim;          // the output directory mr run made ready, and cleans up on failure (not with --master: that master does)
  workers: number;
  transport: string;
  master?: string;
  token?: string;
  tls?: TlsMaterial;             // mutual TLS: with --master, or for the cluster mr run starts (grpc)
  tlsFlags: string[];            // the same, as flags for the workers mr run starts
  json: boolean;
  quiet: boolean;
  report: boolean;
  nodes?: number;                // simulated machines only
  tuning?: MachineTuning;
  etcd?: string[];               // ssi: a running etcd cluster's client URLs (none: mr run starts a member)
  autoscale?: Autoscale;         // horizontal only
  chaos?: ChaosChoice;
  http?: { bind: HttpBind; token?: string }; // the status server of mr run's own master
  historyDir?: string;           // where the record of a job run on mr run's own master is kept
  taskTimeoutMs: number;         // of mr run's own master (0: no timeout)
  workerHeapMib: number;         // of the worker processes mr run starts
  workerTimeoutMs: number;       // of mr run's own master: a worker silent this long is presumed dead
  uber: boolean;                 // a tiny job run inside mr run, with no worker processes (uber-mode.ts)
}

export async function buildRunConfig(args: RunArgs): Promise<RunConfig> {
  if (args.jobs.length === 0) throw new UsageError('give at least one job file: mr run <job.ts> --input <glob> --output <dir>');
  if (!args.input?.length) throw new UsageError('--input <glob> is required (quote the glob)');
  if (!args.output) throw new UsageError('--output <dir> is required');
  const transport = args.transport ?? DEFAULTS.transport;
  checkTransportName(transport);
  const { runs } = backendNamed(transport)!;
  const { nodes, tuning, machine } = machineArgs(args, transport, runs);
  const http = httpArgs(args);
  const capabilities = machine.capabilities;
  if (args.master && !capabilities.multiHost) {
    throw new UsageError(`--transport ${transport} runs master and workers in one process; it cannot submit to --master ${args.master}`);
  }
  const reducers = positiveInt('--reducers', args.reducers, DEFAULTS.reducers);
  if (runs.sizing === 'machine' && args.workers !== undefined && args.workers !== machine.machine?.nodes) {
    throw new UsageError(`--transport ${transport} runs one worker per node: give --nodes ${args.workers} instead of --workers`);
  }
  if (runs.sizing === 'nodes' && args.workers !== undefined && args.nodes !== undefined && args.workers !== args.nodes) {
    throw new UsageError(`--transport ${transport} is sized by --nodes; give --nodes or --workers, not both`);
  }
  const workers = machine.machine?.nodes
    ?? positiveInt(runs.sizing === 'nodes' && args.nodes !== undefined ? '--nodes' : '--workers', args.nodes ?? args.workers, DEFAULTS.workers());
  const base = {
    options: parseSet(args.set ?? []),
    splitBytes: args.splitMib === undefined ? 0 : Math.round(positiveNumber('--split-mib', args.splitMib, 0) * MIB),
    parallelism: args.master ? 0 : workers,
    sortBufferBytes: Math.round(positiveNumber('--sort-buffer-mib', args.sortBufferMib, DEFAULTS.sortBufferBytes / MIB) * MIB),
    maxAttempts: positiveInt('--max-attempts', args.maxAttempts, DEFAULTS.maxAttempts),
    speculation: args.speculation ?? true,
    noPacking: args.packing === false,
    checkpointMs: Math.round(args.checkpointMs ?? runs.checkpointMs ?? 0),
  };
  if (isObjectUrl(args.output)) parseObjectUrl(args.output.endsWith('/') ? args.output : `${args.output}/`);
  const outputDir = isObjectUrl(args.output) ? args.output.replace(/\/+$/, '') : resolve(args.output);
  const inputFiles = await expandInputs(args.input);
  checkInputsAreText(inputFiles, !!args.binaryOk);
  let uber = runsUber(args, inputFiles, process.env);
  const stages: JobSpec[] = [];
  for (const [i, file] of args.jobs.entries()) {
    const jobPath = resolve(file);
    const { job, hash: jobHash } = await loadJob(jobPath);
    if (!runsOnlyBuiltins(job)) uber = false;
    const stageReducers = job.reducers ?? reducers;
    const files = i === 0 ? inputFiles : [];
    stages.push({
      ...base, jobPath, jobHash, outputDir, inputFiles: files, reducers: stageReducers,
      inputMode: i === 0 ? (job.input ?? 'lines') : 'records',
      options: { ...base.options, ...(await prepared(job, file, { files, reducers: stageReducers, options: base.options })) },
    });
  }
  const token = args.master ? readToken(args) : undefined;
  const tls = readTls(args);
  if (tls && !args.master && !runs.tls) {
    throw new UsageError(`--tls-cert, --tls-key and --tls-ca secure the cluster mr run starts with --transport grpc only, not ${transport}; or give --master`);
  }
  const { taskTimeoutMs, workerHeapMib, workerTimeoutMs } = embeddedArgs(args);
  const etcd = etcdArgs(args, transport);
  const autoscale = args.autoscale === undefined ? undefined : parseAutoscale(args.autoscale, runs.autoscale ?? false, transport);
  const chaos = chaosArgs(args, machine, autoscale?.max ?? workers);
  const historyDir = args.master ? undefined : historyOutside(outputDir, process.env);
  // Last, once every other argument is known good: nothing else needs undoing after a usage error.
  const jobId = newJobId();
  const output = await claimOutputDir(outputDir, jobId);
  // A master elsewhere claims and creates the output itself, and cleans up after its job; here it
  // was only checked (under the claim, so that the check never races another run's).
  if (args.master) dropClaim(output);
  return {
    jobId, autoscale, stages, outputDir, output: args.master ? undefined : output, workers, transport, master: args.master, token, tls, tlsFlags: tls ? tlsFlags(args) : [], json: !!args.json, quiet: !!args.quiet, report: !!args.report, nodes, tuning,
    chaos, http, taskTimeoutMs, workerHeapMib, workerTimeoutMs, historyDir, uber, ...(etcd ? { etcd } : {}) };
}

/** --etcd: ssi's agreed state in a running etcd cluster; without it, mr run starts a member of its own, which needs etcd installed. */
function etcdArgs(args: RunArgs, transport: string): string[] | undefined {
  if (args.etcd !== undefined && transport !== 'ssi') throw new UsageError(`--etcd applies to --transport ssi, not ${transport}`);
  if (args.etcd !== undefined) return parseEtcdEndpoints(String(args.etcd));
  if (transport === 'ssi' && !args.master) etcdBinary();
  return undefined;
}

function newJobId(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** --task-timeout, --worker-heap-mib, --worker-timeout-ms: settings of the master and workers mr run starts itself. */
function embeddedArgs(args: RunArgs): { taskTimeoutMs: number; workerHeapMib: number; workerTimeoutMs: number } {
  if (args.master && args.taskTimeout !== undefined) {
    throw new UsageError(`--task-timeout is the master's setting; with --master ${args.master}, give it to that mr master instead`);
  }
  if (args.master && args.workerHeapMib !== undefined) {
    throw new UsageError('--worker-heap-mib sets the workers mr run starts; for mr worker daemons, start them with NODE_OPTIONS=--max-old-space-size=<MiB>');
  }
  if (args.master && args.workerTimeoutMs !== undefined) {
    throw new UsageError(`--worker-timeout-ms is the master's setting; with --master ${args.master}, give it to that mr master instead`);
  }
  if (args.workerTimeoutMs !== undefined && args.workerTimeoutMs < 100) {
    throw new UsageError('--worker-timeout-ms must be a whole number of milliseconds, at least 100'); // as mr master says
  }
  const seconds = args.taskTimeout;
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds >= 0)) {
    throw new UsageError(`--task-timeout must be a number of seconds, 0 or more (0: no timeout), got ${String(seconds)}`);
  }
  return {
    taskTimeoutMs: seconds === undefined ? DEFAULTS.taskTimeoutMs : Math.round(seconds * 1000),
    workerHeapMib: positiveInt('--worker-heap-mib', args.workerHeapMib, DEFAULTS.workerHeapMib),
    workerTimeoutMs: args.workerTimeoutMs ?? DEFAULTS.workerTimeoutMs,
  };
}

/** --http: the status server of the master mr run starts; beyond loopback, it asks for the cluster's token. */
function httpArgs(args: RunArgs): RunConfig['http'] {
  if (args.http === undefined) return undefined;
  if (args.master) throw new UsageError(`--http serves the status of the master mr run starts; with --master ${args.master}, give --http to that mr master instead`);
  const bind = parseHttpBind('--http', args.http);
  if (bind.loopback) return { bind };
  const token = readToken(args);
  requireTokenForHttp('--http', bind, token);
  return { bind, token };
}

/** --chaos: on a backend that carries it, in a cluster that `mr run` starts (it names the nodes). */
function chaosArgs(args: RunArgs, machine: Transport, workers: number): ChaosChoice | undefined {
  const chaos = readChaos(args);
  if (!chaos) return undefined;
  if (args.master) {
    throw new UsageError('--chaos acts on the processes that take it: give it to mr master and mr worker (with --chaos-name), not to mr run --master');
  }
  if (!machine.capabilities.faultInjection) {
    const able = transportNames().filter((name) => createTransport(name)?.capabilities.faultInjection);
    throw new UsageError(`--transport ${machine.name} cannot carry --chaos (not every message of a job passes through its transport); use ${able.join(', ')}`);
  }
  const names = ['master', ...Array.from({ length: workers }, (_, i) => `worker-${i}`)];
  for (const node of namedNodes(chaos.spec)) {
    if (!names.includes(node)) throw new UsageError(`--chaos names ${node}, but this run has no node ${node}; its nodes are master and worker-0 to worker-${workers - 1}`);
  }
  for (const { node } of chaos.spec.restarts ?? []) {
    if (node === 'master') throw new UsageError('--chaos restart=master@...: the master is mr run itself; restart workers, or a master daemon (mr master --chaos)');
    if (!machine.capabilities.multiProcess || machine.machine) {
      throw new UsageError(`--chaos restart=${node}@...: --transport ${machine.name} runs its workers inside mr run; restart needs worker processes (grpc, ssi, horizontal)`);
    }
  }
  return chaos;
}

/** --autoscale min..max: servers of the horizontal backend. */
function parseAutoscale(text: string, takesIt: boolean, transport: string): Autoscale {
  if (!takesIt) throw new UsageError(`--autoscale applies to --transport horizontal, not ${transport}`);
  const match = /^(\d+)\.\.(\d+)$/.exec(String(text).trim());
  const [min, max] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!match || min < 1 || max < min || max > 64) throw new UsageError(`--autoscale wants min..max servers, 1 <= min <= max <= 64, like 1..8; got ${JSON.stringify(text)}`);
  return { min, max };
}

/** --nodes and the cost-model knobs: only for a simulated machine, and checked by its backend. */
function machineArgs(args: RunArgs, transport: string, runs: RunShape): { nodes?: number; tuning: MachineTuning; machine: Transport } {
  const tuning: MachineTuning = args.preset === undefined ? {} : { preset: String(args.preset) };
  const knobs: [string, Exclude<keyof MachineTuning, 'preset'>, number | undefined][] = [
    ['--link-latency-us', 'linkLatencyUs', args.linkLatencyUs], ['--link-mb-per-s', 'linkMbPerSec', args.linkMbPerS],
    ['--node-mb-per-s', 'nodeMbPerSec', args.nodeMbPerS], ['--module-mib', 'moduleMib', args.moduleMib],
    ['--local-ns-per-byte', 'localNsPerByte', args.localNsPerByte], ['--remote-ns-per-byte', 'remoteNsPerByte', args.remoteNsPerByte],
    ['--stage-ns', 'stageNs', args.stageNs],
  ];
  for (const [flag, key, value] of knobs) {
    if (value === undefined) continue;
    const zeroOk = key === 'linkLatencyUs' || key === 'localNsPerByte' || key === 'remoteNsPerByte' || key === 'stageNs';
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroOk)) {
      throw new UsageError(`${flag} must be a positive number, got ${String(value)}`);
    }
    tuning[key] = value;
  }
  let machine: Transport;
  try {
    machine = createTransport(transport, { nodes: args.nodes, tuning })!;
  } catch (error) {
    throw new UsageError(`--transport ${transport}: ${oneLine(error)}`);
  }
  if (runs.sizing !== 'machine' && Object.keys(tuning).length > 0) {
    throw new UsageError(`the machine model options apply to the simulated backends (hypercube, butterfly), not to --transport ${transport}`);
  }
  if (runs.sizing === 'workers' && args.nodes !== undefined) {
    throw new UsageError(`--nodes applies to the simulated backends (hypercube, butterfly) and to ssi, not to --transport ${transport}`);
  }
  return { nodes: machine.machine?.nodes, tuning, machine };
}

function positiveInt(flag: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} must be a whole number of at least 1, got ${String(value)}`);
  return value;
}

function positiveNumber(flag: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a positive number, got ${String(value)}`);
  return value;
}

function parseSet(pairs: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--set ${pair}: expected name=value`);
    options[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return options;
}

/** The options a job's prepare hook adds (a sample of the input, say); its error is a usage error. */
async function prepared(job: JobDefinition, file: string, input: PrepareInput): Promise<Record<string, string>> {
  if (!job.prepare) return {};
  try {
    const extra = await job.prepare(input);
    for (const [name, value] of Object.entries(extra ?? {})) {
      if (typeof value !== 'string') throw new TypeError(`option ${name} is a ${typeof value}, not a string`);
    }
    return extra ?? {};
  } catch (error) {
    throw new UsageError(`${file}: ${oneLine(error)}`);
  }
}
