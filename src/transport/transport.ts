// The one interface every backend implements: serve the master's and the workers' services,
// and connect to them. Backends register by name; createTransport picks one.
import type * as M from './messages.ts';

export interface MasterService {
  submitJob(req: M.SubmitJobRequest): Promise<M.SubmitJobReply>;
  getJobStatus(req: M.JobStatusRequest): Promise<M.JobStatus>;
  killJob(req: M.KillJobRequest): Promise<M.KillJobReply>;
  listJobs(req: M.ListJobsRequest): Promise<M.ListJobsReply>;
  getJobLogs(req: M.JobLogsRequest): Promise<M.JobLogsReply>;
  registerWorker(req: M.RegisterWorkerRequest): Promise<M.RegisterWorkerReply>;
  requestTask(req: M.TaskRequest): Promise<M.TaskReply>;
  reportAttempt(req: M.AttemptReport): Promise<M.AttemptReportReply>;
  commitAttempt(req: M.CommitRequest): Promise<M.CommitReply>;
  heartbeat(req: M.HeartbeatRequest): Promise<M.HeartbeatReply>;
}

export interface WorkerService {
  /** The partition's bytes in chunks of at most 1 MiB. */
  fetchPartition(req: M.FetchPartitionRequest): AsyncIterable<Buffer>;
}

export interface MasterClient extends MasterService {
  close(): void;
}

export interface WorkerClient extends WorkerService {
  close(): void;
}

export interface Server {
  /** host:port (or the backend's own address form) that clients connect to. */
  readonly address: string;
  stop(): Promise<void>;
}

export interface Capabilities {
  multiHost: boolean;            // master and workers may run on different machines
  multiProcess: boolean;         // workers may be other processes (false: they live in the caller's process)
  sharedMemory: boolean;
  faultInjection: boolean;
}

export interface Transport {
  readonly name: string;
  readonly capabilities: Capabilities;
  serveMaster(handlers: MasterService, listen: string): Promise<Server>;
  serveWorker(handlers: WorkerService, listen: string): Promise<Server>;
  connectMaster(address: string): MasterClient;
  connectWorker(address: string): WorkerClient;
}

export interface TransportOptions {
  token?: string;
}

export type TransportFactory = (options: TransportOptions) => Transport;

const registry = new Map<string, TransportFactory>();

export function registerTransport(name: string, factory: TransportFactory): void {
  registry.set(name, factory);
}

export function transportNames(): string[] {
  return [...registry.keys()];
}

/** Returns the named backend, or undefined when none is registered under that name. */
export function createTransport(name: string, options: TransportOptions = {}): Transport | undefined {
  return registry.get(name)?.(options);
}
