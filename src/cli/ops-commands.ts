// `mr status`, `mr list`, `mr kill`, `mr logs`: ask a running master about its jobs (status, list
// and logs without --master: the history of the jobs mr run ran on its own master).
import { formatChaosCounts } from './chaos-args.ts';
import { namedTransport } from './transport-arg.ts';
import { EXIT, UsageError } from '../errors.ts';
import { ClusterNamespace, parseClusterPath } from '../backends/ssi/cluster-namespace.ts';
import { callMaster } from './master-call.ts';
import type { MasterClient } from '../wires/index.ts';
import type { AttemptLog, JobStatus, StageStatus } from '../wires/messages.ts';
import { readToken, type TokenArgs } from './token-args.ts';
import { readTls, type TlsArgs } from './tls-args.ts';
import { chaosOf, statusJson } from '../master/status-json.ts';
import { historyDir } from './history-dir.ts';
import { historyAttempts, historyStatuses } from './history-source.ts';

export interface OpsArgs extends TokenArgs, TlsArgs {
  master?: string;               // required (by the parser) except for status, list and logs
  transport: string;
  json?: boolean;
  job?: string;
  task?: string;
}

async function withMaster<T>(args: OpsArgs, fn: (client: MasterClient) => Promise<T>): Promise<T> {
  const master = args.master as string;
  const client = namedTransport(args.transport, { token: readToken(args), tls: readTls(args) }).connectMaster(master);
  try {
    return await callMaster(master, () => fn(client));
  } finally {
    client.close();
  }
}

function print(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`, () => resolve()));
}

function statusLine(status: JobStatus): string {
  const s = status.stages[status.stage - 1];
  const percent = (fraction: number | undefined) => (fraction === undefined ? '' : ` (${Math.floor(fraction * 100)}%)`);
  const progress = s ? `map ${s.mapDone}/${s.mapTotal}${percent(s.progress?.map)} reduce ${s.reduceDone}/${s.reduceTotal}${percent(s.progress?.reduce)}` : '';
  return `${status.jobId}  ${status.state.padEnd(9)} stage ${status.stage}/${status.stageCount} ${status.phase.padEnd(6)} ${progress}  ${(status.elapsedMs / 1000).toFixed(1)} s`;
}

function statusDetail(status: JobStatus): string {
  const lines = [statusLine(status)];
  status.stages.forEach((s, i) => {
    lines.push(`  stage ${i + 1}: map ${s.mapDone}/${s.mapTotal} done, ${s.mapRunning} running; reduce ${s.reduceDone}/${s.reduceTotal} done, ${s.reduceRunning} running; ${s.failedAttempts} failed attempts, ${s.backupAttempts} backups`);
    lines.push(...reduceLines(s));
  });
  for (const w of status.workers) {
    lines.push(`  worker ${w.workerId} ${w.address} ${w.alive ? 'alive' : 'dead'}: ${w.running} running, ${w.succeeded} succeeded, ${w.failed} failed, heartbeat ${(w.heartbeatAgeMs / 1000).toFixed(1)} s ago`);
  }
  const chaos = chaosOf(status);
  if (chaos) lines.push(`  chaos (${chaos.processes} process(es) under --chaos): ${formatChaosCounts(chaos)}`);
  if (status.error) lines.push(`  error: ${status.error}`);
  lines.push(`  output: ${status.outputDir}`);
  return lines.join('\n');
}

const LISTED_REDUCERS = 20;

/**
 * Per reducer: input records and bytes (final once every map is done), state and time; then the
 * stragglers. Past LISTED_REDUCERS reducers, only the running ones and the stragglers are listed.
 */
function reduceLines(s: StageStatus): string[] {
  const reduces = s.reduces ?? [];
  const stragglers = s.stragglers ?? [];
  const named = new Set(stragglers.filter((x) => x.kind === 'reduce').map((x) => x.taskIndex));
  const shown = reduces.length <= LISTED_REDUCERS ? reduces : reduces.filter((r) => r.state === 'running' || named.has(r.index));
  const lines = shown.map((r) => {
    const input = `${r.inputRecords} records, ${r.inputBytes} bytes${r.inputKnown ? '' : ' so far'}`;
    return `    reducer ${r.index}: ${r.state.padEnd(7)} ${(r.elapsedMs / 1000).toFixed(1).padStart(6)} s  input ${input}`;
  });
  if (shown.length < reduces.length) lines.push(`    (${reduces.length - shown.length} more reducers; --json lists them all)`);
  for (const straggler of stragglers) lines.push(`    straggler: ${straggler.message}`);
  return lines;
}

export async function statusCommand(args: OpsArgs): Promise<void> {
  // Newest first, from a master as from the history (listJobs and listJobStatuses order them).
  const jobs = args.master
    ? await withMaster(args, async (client) => (args.job ? [await client.getJobStatus({ jobId: args.job })] : (await client.listJobs({})).jobs))
    : await historyStatuses(historyDir(process.env), args.job);
  if (args.json) await print(JSON.stringify({ jobs: jobs.map(statusJson) }));
  else if (args.job) await print(statusDetail(jobs[0]));
  else await print(jobs.length ? jobs.map(statusLine).join('\n') : 'no jobs');
  process.exit(EXIT.ok);
}

export async function listCommand(args: OpsArgs): Promise<void> {
  const jobs = args.master ? (await withMaster(args, (client) => client.listJobs({}))).jobs : await historyStatuses(historyDir(process.env));
  if (args.json) await print(JSON.stringify({ jobs: jobs.map(statusJson) }));
  else await print(jobs.length ? jobs.map(statusLine).join('\n') : 'no jobs');
  process.exit(EXIT.ok);
}

export async function killCommand(args: OpsArgs): Promise<void> {
  const jobId = args.job as string;
  if (/^\d+$/.test(jobId)) return killProcessCommand(args, Number(jobId));
  const { killed, status } = await withMaster(args, async (client) => {
    const reply = await client.killJob({ jobId });
    return { killed: reply.killed, status: await client.getJobStatus({ jobId }) };
  });
  if (args.json) await print(JSON.stringify({ id: jobId, killed, state: status.state }));
  else await print(killed ? `killed ${jobId}` : `${jobId} had already ended: ${status.state}`);
  process.exit(EXIT.ok);
}

/** `mr kill <cpid>`: stops one attempt of the pool's process table, wherever it runs. */
async function killProcessCommand(args: OpsArgs & { signal?: string }, cpid: number): Promise<void> {
  const signal = (args.signal ?? 'TERM').toUpperCase().replace(/^SIG/, '');
  const reply = await withMaster(args, (client) => client.killProcess({ cpid, signal }));
  if (args.json) await print(JSON.stringify({ cpid, signal, done: reply.killed, ...(reply.error ? { error: reply.error } : {}) }));
  else await print(!reply.killed ? reply.error : signal === 'STOP' ? `stopped process ${cpid}` : signal === 'CONT' ? `continued process ${cpid}` : `killed process ${cpid}`);
  process.exit(reply.killed ? EXIT.ok : EXIT.usage);
}

/**
 * `mr ps`: every attempt on every node, as one machine's process table: the master's, or with
 * --node <k> (ssi) node k's mirror of the table the cluster agreed on in etcd.
 */
export async function psCommand(args: OpsArgs & { all?: boolean; node?: number }): Promise<void> {
  const { processes } = args.node === undefined
    ? await withMaster(args, (client) => client.listProcesses({ all: !!args.all }))
    : await withMaster(args, async (client) => {
      const node = (await client.resolveNodes({})).nodes.find((n) => n.node === args.node);
      if (!node) throw new UsageError(`no live node ${args.node} (mr ps lists the nodes)`);
      const worker = namedTransport(args.transport, { token: readToken(args), tls: readTls(args) }).connectWorker(node.address);
      try {
        if (!worker.listProcesses) throw new UsageError(`--transport ${args.transport} nodes keep no process table: --node needs --transport ssi`);
        return await worker.listProcesses({ all: !!args.all });
      } finally {
        worker.close();
      }
    });
  if (args.json) {
    await print(JSON.stringify({ processes }));
  } else {
    const rows = processes.map((p) => [String(p.cpid), String(p.node), p.state, `${(p.cpuMs / 1000).toFixed(1)}s`,
      `${Math.round(p.rssKib / 1024)}M`, `${(p.elapsedMs / 1000).toFixed(1)}s`, p.checkpointBytes ? `${(p.checkpointBytes / 1024).toFixed(0)}K` : '-', p.jobId, p.task]);
    await print(table([['CPID', 'NODE', 'STATE', 'CPU', 'MEM', 'TIME', 'CKPT', 'JOB', 'TASK'], ...rows]));
  }
  process.exit(EXIT.ok);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

/** `mr drain <node>`: the node takes no new tasks; what runs there moves to other nodes. */
export async function drainCommand(args: OpsArgs & { node: number }): Promise<void> {
  const reply = await withMaster(args, (client) => client.drainNode({ node: args.node }));
  if (args.json) await print(JSON.stringify({ node: args.node, drained: reply.drained, moved: reply.moved, ...(reply.error ? { error: reply.error } : {}) }));
  else await print(reply.drained ? `drained node ${args.node}: ${reply.moved} attempt(s) moved` : reply.error);
  process.exit(reply.drained ? EXIT.ok : EXIT.usage);
}

/** `mr cat <path>`: a file of the pool's namespace (/cluster/<node>/..., or plain), from whichever node holds it. */
export async function catCommand(args: OpsArgs & { path: string }): Promise<void> {
  const address = args.master as string; // the parser demands it
  const transport = namedTransport(args.transport, { token: readToken(args), tls: readTls(args) });
  const master = transport.connectMaster(address);
  // Seen from no node of its own: every path is another node's, found through the master.
  const namespace = new ClusterNamespace({ node: () => undefined, master: () => master }, '/nonexistent', transport);
  try {
    if (args.path.startsWith('/cluster/')) parseClusterPath(args.path);
    await callMaster(address, async () => {
      for await (const chunk of namespace.open(args.path)) {
        if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
    });
  } finally {
    namespace.close();
    master.close();
  }
  process.exit(EXIT.ok);
}

function logBlock(a: AttemptLog): string {
  const took = a.endedMs ? ` in ${((a.endedMs - a.startedMs) / 1000).toFixed(1)} s` : '';
  const head = `== ${a.task} ${a.attemptId}${a.backup ? ' (backup)' : ''} on ${a.workerId}: ${a.state}${took}${a.error ? `: ${a.error}` : ''}`;
  return a.log ? `${head}\n${a.log}` : head;
}

export async function logsCommand(args: OpsArgs): Promise<void> {
  const jobId = args.job as string;
  const attempts = args.master
    ? (await withMaster(args, (client) => client.getJobLogs({ jobId, task: args.task ?? '' }))).attempts
    : await historyAttempts(historyDir(process.env), jobId, args.task ?? '');
  if (args.json) await print(JSON.stringify({ attempts }));
  else await print(attempts.length ? attempts.map(logBlock).join('\n') : 'no attempts');
  process.exit(EXIT.ok);
}
