// The one interface every backend's users see (Transport: serve the master's and the workers'
// services, connect to them), and the one each backend's wire implements (Wire: the same, one
// try per call, nothing but moving bytes). Backends register their wire by name; createTransport
// (registry.ts) picks one and puts the call policy and the chaos layer over it (over-wire.ts).
import type { JobTrace } from '../core/job-trace.ts';
import type { ChaosNode } from './chaos/chaos-node.ts';
import type { TlsMaterial } from './grpc/credentials.ts';
import type { MasterMethod, MasterRpcs, WorkerMethod, WorkerRpcs } from './contract.gen.ts';
import type * as M from './messages.ts';
import type { MapOutputStore } from '../storage/map-output-store.ts';
import type { Equals, NoneOf } from './type-checks.ts';

/** The Master service's RPCs (contract.gen.ts), each as the method that takes its request and answers its reply. */
export type MasterService = { [K in keyof MasterRpcs]: (req: M.Messages[MasterRpcs[K]['request']]) => Promise<M.Messages[MasterRpcs[K]['reply']]> };

/** The Master service's RPCs, by their method names here: the proto's, generated. */
export { MASTER_METHODS } from './contract.gen.ts';

// The derivation above holds for unary calls only: a streaming Master RPC stops tsc here.
type MasterStreams = NoneOf<{ [K in keyof MasterRpcs]: MasterRpcs[K]['requestStream'] | MasterRpcs[K]['replyStream'] extends false ? never : K }[keyof MasterRpcs]>;

/** Written out, not derived: a streamed reply arrives as its chunks' bytes, and not every worker serves every RPC. */
export interface WorkerService {
  /** The partition's bytes in chunks of at most 1 MiB. */
  fetchPartition(req: M.FetchPartitionRequest): AsyncIterable<Buffer>;
  /** Partition r of several map outputs, in one stream: each chunk a 4-byte index into outputIds, then bytes (see batched-fetch.ts). */
  fetchPartitions?(req: M.FetchPartitionsRequest): AsyncIterable<Buffer>;
  /** ssi: a file of this node's namespace (/cluster/<node>/...), in chunks of at most 1 MiB. */
  readFile?(req: M.ReadFileRequest): AsyncIterable<Buffer>;
  /** horizontal: runs one task to its end and reports it. */
  runTask?(req: M.RunTaskRequest, signal?: AbortSignal): Promise<M.AttemptReport>;
  /** ssi: the cluster's process table, from this node's mirror of the agreed state. */
  listProcesses?(req: M.ListProcessesRequest): Promise<M.ListProcessesReply>;
}

/** What the proto says of a Worker RPC: its request in, its reply out (a stream of Chunk: their bytes). */
type WorkerRpc<K extends WorkerMethod> = {
  request: M.Messages[WorkerRpcs[K]['request']];
  reply: WorkerRpcs[K]['replyStream'] extends true ? AsyncIterable<M.Messages[WorkerRpcs[K]['reply']] extends M.Chunk ? Buffer : never>
    : Promise<M.Messages[WorkerRpcs[K]['reply']]>;
};
// WorkerService has every Worker RPC of the proto, and no other, each with the proto's request and reply.
type WorkerMismatches = NoneOf<
  | Exclude<keyof WorkerService, WorkerMethod> | Exclude<WorkerMethod, keyof WorkerService>
  | { [K in WorkerMethod]: Equals<Parameters<Required<WorkerService>[K]>[0], WorkerRpc<K>['request']> extends true ? never : K }[WorkerMethod]
  | { [K in WorkerMethod]: Equals<ReturnType<Required<WorkerService>[K]>, WorkerRpc<K>['reply']> extends true ? never : K }[WorkerMethod]
>;

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
  /** It carries the chaos layer (--chaos): every message of the job passes through it. */
  faultInjection: boolean;
}

/** The backend's own figures for a finished job (`mr run --report`, `--json` under `backend`). */
export type BackendReport = { name: string; nodes: number; messages: number; bytes: number } & Record<string, unknown>;

/**
 * A backend that models a machine of `nodes` nodes: `mr run` starts one worker per node in
 * worker threads (threads hosting nodes round-robin), hands each thread threadData(), and asks
 * for the machine's figures once the job is over.
 */
export interface SimulatedMachine {
  readonly nodes: number;
  /** How many threads carry the nodes' workers. */
  readonly threads: number;
  /** What the transport in the thread hosting these nodes needs (shared memory, say); structured-clonable. */
  threadData(hosted: number[]): unknown;
  /** Its figures for a finished job (once what the job still sends has settled, if the machine waits for it). */
  report(trace: JobTrace): BackendReport | Promise<BackendReport>;
  /**
   * The nodes whose messages to the master cannot pass while these nodes' thread is held (a long
   * call of a job function): they route through it. Absent: only these nodes themselves.
   */
  heldBehind?(nodes: number[]): number[];
  /** In a node thread: where the node's map outputs go, if not in files of its own (see MapOutputStore). */
  outputStore?(node: number, rootOf: (node: number) => string): MapOutputStore;
}

export interface Transport {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly machine?: SimulatedMachine;
  /** The chaos layer this transport's calls pass through (--chaos), if any: its counts go in the node's stats. */
  readonly chaos?: ChaosNode;
  serveMaster(handlers: MasterService, listen: string): Promise<Server>;
  /**
   * What crossed the master services this transport serves, counted where it is encoded (each
   * request and reply a message, its bytes on the wire); absent where nothing is encoded.
   */
  readonly masterTraffic?: { messages: number; bytes: number };
  serveWorker(handlers: WorkerService, listen: string): Promise<Server>;
  connectMaster(address: string): MasterClient;
  connectWorker(address: string): WorkerClient;
}

/** One try of a Master call over a wire: no retry, no chaos (over-wire.ts adds both). */
export interface MasterLink {
  /** retry: 0 for a call's first try, then 1, 2, ... (a wire that counts its traffic may tell them apart). */
  /** copy: a duplicate the network made of a call still going on (chaos): nobody waits for its answer. */
  call(method: MasterMethod, request: object, deadline: Date, retry?: number, copy?: boolean): Promise<unknown>;
  /** The same call with a token of an intruder's own making (chaos intruder=P), where the wire carries tokens. */
  forged?(method: MasterMethod, request: object, deadline: Date): Promise<unknown>;
  /** The error a caller should see once the retries are spent (a TLS mismatch explained, say). */
  explain?(error: unknown): unknown;
  close(): void;
}

/**
 * How bytes move between a backend's master and workers: it serves handlers as given and
 * connects, one try per call. Its users get a Transport over it (createTransport).
 */
export interface Wire extends Omit<Transport, 'chaos' | 'connectMaster'> {
  /**
   * Its calls cross something that can fail on its own (a network): each idempotent call is
   * retried under the call policy. An in-process wire's calls fail only under --chaos, and are
   * retried only then.
   */
  readonly lossy: boolean;
  linkMaster(address: string): MasterLink;
  /** The node's chaos layer, for a wire whose own relays must meet it too (a node cut off forwards nothing). */
  attachChaos?(chaos: ChaosNode): void;
}

/** Knobs of the simulated machines' cost models; each backend takes those it knows. */
export interface MachineTuning {
  /** A machine's published figures by name (hypercube: ipsc1, ipsc2); the knobs below override them. */
  preset?: string;
  linkLatencyUs?: number;
  linkMbPerSec?: number;
  nodeMbPerSec?: number;
  moduleMib?: number;
  localNsPerByte?: number;
  remoteNsPerByte?: number;
  stageNs?: number;
}

export interface TransportOptions {
  token?: string;
  /** gRPC backends: mutual TLS on every server and client (credentials.ts). */
  tls?: TlsMaterial;
  nodes?: number;
  tuning?: MachineTuning;
  /** In a node thread: what the machine's threadData() gave (MessagePorts in it are transferred to the thread). */
  threadData?: unknown;
  /** In a node thread: the node whose worker uses this transport. */
  node?: number;
  /** The chaos layer of the node that uses this transport, put over its wire; only backends with capabilities.faultInjection take it. */
  chaos?: ChaosNode;
}

/** A backend's wire, made from the run's options (never the chaos layer: that is put over it). */
export type WireFactory = (options: WireOptions) => Wire;

export type WireOptions = Omit<TransportOptions, 'chaos'>;
