// The TypeScript shape of the messages in proto/mapreduce.proto (field names as proto-loader
// gives them: camelCase, 64-bit integers as numbers). Keep in step with the proto file.

import type { Straggler } from '../core/stragglers.ts';

export interface JobSpec {
  jobPath: string;
  inputFiles: string[];
  outputDir: string;
  reducers: number;
  inputMode: string;
  options: Record<string, string>;
  splitBytes: number;
  sortBufferBytes: number;
  maxAttempts: number;
  speculation: boolean;
  parallelism: number;
  jobHash?: string;   // the compiled job's sha256 at submission: workers run only that code ('' or absent: unchecked)
}

export interface SubmitJobRequest { jobId: string; stages: JobSpec[] }
export interface SubmitJobReply { jobId: string }
export interface JobStatusRequest { jobId: string }
export interface KillJobRequest { jobId: string }
export interface KillJobReply { killed: boolean }

export interface StageStatus {
  mapDone: number;
  mapTotal: number;
  reduceDone: number;
  reduceTotal: number;
  elapsedMs: number;
  counters: Record<string, number>;
  mapPhaseMs: number;
  reducePhaseMs: number;
  failedAttempts: number;
  mapAttempts: number;
  reduceAttempts: number;
  backupAttempts: number;
  mapRunning: number;
  reduceRunning: number;
  reduces?: ReduceTaskStatus[];
  stragglers?: Straggler[];
  progress?: { map: number; reduce: number } | null; // never decreasing (src/core/progress.ts)
  mapRerunning?: number;
  mapBytesRead?: number;
  mapBytesTotal?: number;
  reduceBytesRead?: number;
  reduceBytesTotal?: number;
}

export interface ReduceTaskStatus {
  index: number;
  state: string;
  inputKnown: boolean;
  inputRecords: number;
  inputBytes: number;
  elapsedMs: number;
  attempts: number;
}

export type { Straggler };

export interface ProcessStats {
  role: string;
  pid: number;
  workerId: string;
  cpuMs: number;
  maxRssKib: number;
  chaos?: ChaosCounts | null;
  startedAtMs?: number;
  engineAtMs?: number;
  readyAtMs?: number;
  firstTaskAtMs?: number;
}

export interface ChaosCounts {
  messages: number;
  droppedRequests: number;
  droppedReplies: number;
  delayed: number;
  duplicated: number;
  reordered: number;
  throttled: number;
  throttledMs: number;
  partitioned: number;
  intruders: number;
  intrudersAdmitted: number;
}

export interface JobStatus {
  jobId: string;
  state: string;
  stage: number;
  phase: string;
  stages: StageStatus[];
  error: string;
  files: string[];
  outputDir: string;
  processes: ProcessStats[];
  elapsedMs: number;
  stageCount: number;
  workers: WorkerLoad[];
}

export interface WorkerLoad {
  workerId: string;
  address: string;
  alive: boolean;
  running: number;
  succeeded: number;
  failed: number;
  heartbeatAgeMs: number;
}

export interface ListJobsRequest {}
export interface ListJobsReply { jobs: JobStatus[] }
export interface JobLogsRequest { jobId: string; task: string }
export interface AttemptLog {
  attemptId: string;
  task: string;
  workerId: string;
  state: string;
  error: string;
  log: string;
  startedMs: number;
  endedMs: number;
  backup: boolean;
}
export interface JobLogsReply { attempts: AttemptLog[] }

export interface RegisterWorkerRequest { workerId: string; address: string; slots: number; pid: number; hasNode?: boolean; node?: number }
export interface RegisterWorkerReply { heartbeatIntervalMs: number; leaseMs: number; node: number; taskTimeoutMs?: number }
export interface TaskRequest { workerId: string; waitMs: number; requestId?: string }

export interface InputSplit { path: string; start: number; end: number; wholeFile: boolean; fileBytes?: number; mtimeMs?: number }
export interface MapOutput { mapTask: number; workerAddress: string; outputId: string; path?: string }

export interface Task {
  jobId: string;
  stage: number;
  kind: string;
  taskIndex: number;
  attemptId: string;
  spec: JobSpec;
  split?: InputSplit | null;
  mapOutputs: MapOutput[];
}

export interface TaskReply {
  task?: Task | null;
  retryAfterMs?: number;
  shutdown?: boolean;
  reply?: 'task' | 'retryAfterMs' | 'shutdown';
}

export interface AttemptReport {
  workerId: string;
  attemptId: string;
  ok: boolean;
  error: string;
  outputId: string;
  counters: Record<string, number>;
  partitionBytes: number[];
  stats?: ProcessStats | null;
  lostMapTasks?: number[];
  log?: string;
  wantTask?: boolean;
  partitionRecords?: number[];
  ownDeath?: boolean;
}
export interface AttemptReportReply { accepted: boolean; next?: TaskReply | null }

export interface CommitRequest { workerId: string; attemptId: string }
export interface CommitReply { allowed: boolean }

export interface HeartbeatRequest { workerId: string; runningAttempts: string[]; stats?: ProcessStats | null; progress?: AttemptProgress[]; busy?: boolean }
export interface AttemptProgress { attemptId: string; inputBytesRead?: number; outputsFetched?: number; records?: number; progressUnknown?: boolean }
export interface HeartbeatReply { cancelAttempts: string[]; reregister: boolean; pausedAttempts?: string[] }

export interface FetchPartitionRequest { outputId: string; partition: number }

// ---- ssi ----
export interface ProcessEntry {
  cpid: number; node: number; jobId: string; task: string; attemptId: string; state: string;
  cpuMs: number; rssKib: number; elapsedMs: number;
}
export interface ListProcessesRequest { all: boolean }
export interface ListProcessesReply { processes: ProcessEntry[] }
export interface KillProcessRequest { cpid: number; signal?: string }
export interface KillProcessReply { killed: boolean; error: string }
export interface DrainNodeRequest { node: number }
export interface DrainNodeReply { drained: boolean; moved: number; error: string }
export interface NodeAddress { node: number; address: string }
export type ResolveNodesRequest = Record<string, never>;
export interface ResolveNodesReply { nodes: NodeAddress[] }
export interface ReadFileRequest { path: string }

// ---- horizontal ----
export interface RunTaskRequest { task: Task; masterAddress: string; workerId: string; sharedDir: string }
export interface ServerRef { address: string }
export interface ServerState { address: string; healthy: boolean; outstanding: number; served: number; failed: number; leaving: boolean }
export interface JoinReply { joined: boolean }
export interface LeaveReply { left: boolean }
export type ListServersRequest = Record<string, never>;
export interface ListServersReply { servers: ServerState[]; failovers: number }
