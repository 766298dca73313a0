// The `mr` command line: the only place that reads argv and the environment. Every error ends
// here as one line on stderr and an exit code (MR_DEBUG=1 adds the stack).
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { DEFAULTS } from '../config.ts';
import { EMBEDDED_WORKER } from '../pools/embedded-worker.ts';
import { EXIT, JobFailedError, MrError, UsageError, oneLine } from '../errors.ts';
import { armFailpoints } from '../failpoints.ts';
import { parseLogLevel, setLogLevel } from '../log-level.ts';
import { reached } from '../process-stats.ts';
import { chaosOptions } from './chaos-args.ts';
import { missingPositional, refuseRepeatedOptions } from './argv-checks.ts';
import { suggestion } from './did-you-mean.ts';
import { numberOption, readNumber } from './number-args.ts';
import { tokenOptions } from './token-args.ts';

// Each command's module is imported only when that command runs: `mr run` and `mr worker` start
// several processes per job, and none of them should load the bench plot (vega, resvg) or the
// balancer.
const run = () => import('./run-report.ts');
const daemons = () => import('./daemon-commands.ts');
const ops = () => import('./ops-commands.ts');

const COMMANDS = ['run', 'check', 'bench', 'master', 'worker', 'balancer', 'status', 'list', 'kill', 'logs', 'ps', 'drain', 'cat', 'version'] as const;

function commands(yargs: typeof import('yargs').default, argv: string[]): Argv {
  const parser = yargs(argv);
  return parser
    .scriptName('mr')
    .usage('$0 <command> [options]')
    .command('run <jobs..>', 'run a job (several job files chain into stages)', (y) => y
      .positional('jobs', { type: 'string', array: true, demandOption: true, describe: 'job module(s): .ts .mts .js .mjs' })
      .option('input', { type: 'string', array: true, describe: 'input glob(s), quoted; fast-glob syntax' })
      .option('output', { type: 'string', describe: 'output directory: new or empty' })
      .option('reducers', numberOption('reducers', 'count', { describe: 'reduce tasks, for jobs that declare none (default 4)' }))
      .option('workers', numberOption('workers', 'count', { describe: 'worker processes to start (default: CPU cores)' }))
      .option('transport', { type: 'string', describe: 'execution backend: grpc (default), memory, hypercube, butterfly, ssi or horizontal' })
      .option('etcd', { type: 'string', describe: 'ssi: client URLs of a running etcd cluster for the cluster state (default: mr run starts a member itself)' })
      .option('nodes', numberOption('nodes', 'count', { describe: 'nodes: of a simulated machine (hypercube, butterfly: a power of two, default 8), or of an ssi pool' }))
      .option('report', { type: 'boolean', describe: "print the backend's own figures at the end (simulated time, links, ...)" })
      .option('preset', { type: 'string', describe: "simulated machines: a real machine's published figures (hypercube: ipsc1, ipsc2; butterfly: butterfly1, tc2000)" })
      .option('link-latency-us', numberOption('link-latency-us', 'nonNegative', { describe: 'hypercube: latency of one link hop in microseconds (default 5)' }))
      .option('link-mb-per-s', numberOption('link-mb-per-s', 'positive', { describe: 'hypercube: bandwidth of one link in MB/s (default 1000)' }))
      .option('node-mb-per-s', numberOption('node-mb-per-s', 'positive', { describe: "simulated machines: a node's processing speed in MB/s of input (default 20)" }))
      .option('module-mib', numberOption('module-mib', 'positive', { describe: 'butterfly: size of each memory module in MiB (default 64)' }))
      .option('local-ns-per-byte', numberOption('local-ns-per-byte', 'nonNegative', { describe: "butterfly: cost of reading one's own module, ns per byte (default 0.1)" }))
      .option('remote-ns-per-byte', numberOption('remote-ns-per-byte', 'nonNegative', { describe: 'butterfly: cost of a transfer through the switch, ns per byte (default 0.4)' }))
      .option('stage-ns', numberOption('stage-ns', 'nonNegative', { describe: 'butterfly: cost of crossing one switch stage, ns (default 50)' }))
      .option('autoscale', { type: 'string', describe: 'horizontal: start servers while tasks queue up and stop idle ones, min..max (e.g. 1..8)' })
      .option('master', { type: 'string', describe: 'host:port of a running master to submit to' })
      .option('s3-endpoint', { type: 'string', describe: "an S3-compatible store's URL, for s3:// inputs (default: AWS_ENDPOINT_URL_S3, else AWS S3); credentials the AWS SDK's way" })
      .option('speculation', { type: 'boolean', default: true, describe: 'backup attempts for stragglers (--no-speculation)' })
      .option('packing', { type: 'boolean', default: true, describe: 'small input files packed into map tasks of about the split size (--no-packing: one map task per file)' })
      .option('set', { type: 'string', array: true, describe: 'job option name=value (repeatable), as ctx.options' })
      .option('split-mib', numberOption('split-mib', 'positive', { describe: 'map split size in MiB: a larger file is cut at line boundaries (default: about two map tasks per worker, 4 to 64 MiB)' }))
      .option('sort-buffer-mib', numberOption('sort-buffer-mib', 'positive', { describe: 'map output buffer before spilling, MiB (default 64)' }))
      .option('checkpoint-ms', numberOption('checkpoint-ms', 'nonNegative', { describe: 'a map attempt checkpoints this often, so that one moved or lost resumes where it was (default: 1000 on ssi, else 0: never)' }))
      .option('max-attempts', numberOption('max-attempts', 'count', { describe: 'attempts per task before the job fails (default 4)' }))
      .option('task-timeout', numberOption('task-timeout', 'nonNegative', { describe: 'seconds an attempt may go without progress before it is killed and retried (default 60, 0: never)' }))
      .option('worker-heap-mib', numberOption('worker-heap-mib', 'count', { describe: 'heap limit of each worker process, MiB (default 384)' }))
      .option('worker-timeout-ms', numberOption('worker-timeout-ms', 'count', { describe: `a worker silent this long is presumed dead and its tasks run elsewhere (default ${DEFAULTS.workerTimeoutMs})` }))
      .option('binary-ok', { type: 'boolean', describe: 'read input that looks binary as UTF-8 text anyway (refused by default)' })
      .option('uber', { type: 'boolean', describe: 'a tiny job (see uber mode in docs/running.md) runs in mr run itself, with no worker processes; --no-uber: never' })
      .options(chaosOptions)
      .options(tokenOptions)
      .option('json', { type: 'boolean', describe: 'print one JSON object with the result on stdout' })
      .option('typecheck', { type: 'boolean', describe: 'type-check the job files first, as mr check does; a type error submits nothing (exit 2)' })
      .option('quiet', { type: 'boolean', describe: 'no progress (errors are still shown)' })
      .option('http', { type: 'string', describe: "serve the status page and Prometheus metrics of mr run's own master on host:port (port 0 picks a free one)" }),
    async (args) => (await run()).runCommand(args))
    .command('check <jobs..>', 'type-check job files (mr resolved to this package) and load each as mr run does', (y) => y
      .positional('jobs', { type: 'string', array: true, demandOption: true, describe: 'job module(s): .ts .mts .js .mjs' }),
    async (args) => (await import('./check-command.ts')).checkCommand(args))
    .command('bench <jobs..>', 'run a job at several worker counts and backends; check the outputs agree; write JSON and a Markdown table', (y) => y
      .positional('jobs', { type: 'string', array: true, demandOption: true, describe: 'job module(s), as for mr run' })
      .option('input', { type: 'string', array: true, describe: 'input glob(s), quoted' })
      .option('workers', { type: 'string', default: '1,2', describe: 'worker counts (nodes, for ssi and the simulated machines), e.g. 1,2,4,8' })
      .option('transport', { type: 'string', default: 'grpc', describe: 'backends, e.g. grpc,ssi,horizontal' })
      .option('repeat', numberOption('repeat', 'count', { default: 1, describe: 'runs of each combination (the table shows medians)' }))
      .option('reducers', numberOption('reducers', 'count', { describe: 'reduce tasks (default 4)' }))
      .option('set', { type: 'string', array: true, describe: 'job option name=value (repeatable)' })
      .option('out', { type: 'string', default: 'mr-bench', describe: 'directory for bench.json and bench.md' }),
    async (args) => (await import('./bench-command.ts')).benchCommand(args))
    .command('worker', 'run a worker daemon', (y) => y
      .option('master', { type: 'string', describe: 'host:port of the master' })
      .option('join', { type: 'string', describe: 'host:port of a balancer: run as a stateless task server behind it (horizontal)' })
      .option('s3-endpoint', { type: 'string', describe: "an S3-compatible store's URL, for s3:// inputs (default: AWS_ENDPOINT_URL_S3, else AWS S3)" })
      .option('work-dir', { type: 'string', demandOption: true, describe: 'directory for map outputs and scratch files' })
      .option('slots', numberOption('slots', 'count', { default: 1, describe: 'attempts run at once' }))
      .option('transport', { type: 'string', default: 'grpc' })
      .option('etcd', { type: 'string', describe: 'ssi: client URLs of the etcd cluster that keeps the cluster state, comma-separated' })
      .option('listen-host', { type: 'string', default: '127.0.0.1', describe: 'host the shuffle service binds' })
      .option('listen-port', numberOption('listen-port', 'port', { default: 0, describe: 'port the shuffle service binds (default 0: a free one; fixed, for a probe or a firewall)' }))
      .options(chaosOptions)
      .option('chaos-name', { type: 'string', describe: "this worker's node name for --chaos partition=<node>@... (default worker-<pid>)" })
      .option('chaos-epoch-ms', numberOption('chaos-epoch-ms', 'nonNegative', { hidden: true }))
      .options(tokenOptions)
      .option('exit-with-parent', { type: 'boolean', hidden: true }),
    async (args) => (await daemons()).workerCommand(args))
    .command('master', 'run a master daemon', (y) => y
      .option('listen', { type: 'string', default: '127.0.0.1:0', describe: 'host:port (port 0 picks a free one)' })
      .option('work-dir', { type: 'string', demandOption: true, describe: 'directory for the master\'s logs and state' })
      .option('transport', { type: 'string', default: 'grpc' })
      .option('etcd', { type: 'string', describe: 'ssi: client URLs of the etcd cluster that keeps the cluster state, comma-separated' })
      .option('ha', { type: 'string', describe: 'client URLs of an etcd cluster: masters given the same one stand in for each other (one leads, the others wait; its journal is kept there)' })
      .option('s3-endpoint', { type: 'string', describe: "an S3-compatible store's URL, for s3:// inputs (default: AWS_ENDPOINT_URL_S3, else AWS S3)" })
      .option('ha-name', { type: 'string', default: 'mr', describe: 'with --ha: the name of the masters that stand in for each other (several groups may share one etcd)' })
      .option('lease-ms', numberOption('lease-ms', 'count', { default: DEFAULTS.leaseMs, describe: 'an attempt without a heartbeat this long is presumed lost' }))
      .option('worker-timeout-ms', numberOption('worker-timeout-ms', 'count', { default: DEFAULTS.workerTimeoutMs, describe: 'a worker silent this long is presumed dead' }))
      .option('task-timeout', numberOption('task-timeout', 'nonNegative', { describe: 'seconds an attempt may go without progress before it is killed and retried (default 60, 0: never)' }))
      .option('balancer', { type: 'string', describe: 'horizontal: send tasks through this balancer (mr balancer) to stateless servers' })
      .option('shared-dir', { type: 'string', describe: 'horizontal: where every server keeps map outputs: a directory all of them mount, or s3://bucket/prefix/' })
      .option('dispatch-slots', numberOption('dispatch-slots', 'count', { default: 8, describe: 'horizontal: tasks sent to the balancer at once' }))
      .option('http', { type: 'string', describe: 'serve the status page and Prometheus metrics (/metrics) on host:port (port 0 picks a free one)' })
      .options(chaosOptions)
      .options(tokenOptions),
    async (args) => (await daemons()).masterCommand(args))
    .command('balancer', 'run the load-balancing switch of the horizontal backend', (y) => y
      .option('listen', { type: 'string', default: '127.0.0.1:0', describe: 'host:port (port 0 picks a free one)' })
      .option('backends', { type: 'string', array: true, describe: 'host:port of worker servers (they may also join later: mr worker --join)' })
      .options(tokenOptions),
    async (args) => (await import('./balancer-command.ts')).balancerCommand(args))
    .command('status [job]', "the jobs of a running master (without --master: mr run's history), or one job in detail", (y) => opsOptions(y, false)
      .positional('job', { type: 'string', describe: 'job id' }),
    async (args) => (await ops()).statusCommand(args))
    .command('list', "the jobs of a running master (without --master: mr run's history)", (y) => opsOptions(y, false), async (args) => (await ops()).listCommand(args))
    .command('kill <job>', 'kill a job (every attempt stops, no output is left), or one process of `mr ps` by its CPID', (y) => opsOptions(y)
      .positional('job', { type: 'string', demandOption: true, describe: 'job id, or a cluster-wide process id' })
      .option('signal', { alias: 's', type: 'string', describe: 'for a process: TERM or KILL (stop it; its task runs again), STOP (pause it), CONT (resume it)' }),
    async (args) => (await ops()).killCommand(args))
    .command('ps', 'every task attempt on every node, as one process table (CPID, node, state, CPU, memory)', (y) => opsOptions(y)
      .option('all', { type: 'boolean', describe: 'finished attempts too' })
      .option('node', numberOption('node', 'index', { describe: "ssi: ask node <k>, which answers from its mirror of the cluster's agreed process table" })),
    async (args) => (await ops()).psCommand(args))
    .command('drain <node>', 'a node takes no new tasks; its running attempts move to other nodes', (y) => opsOptions(y)
      .positional('node', { demandOption: true, coerce: (raw: unknown) => readNumber('<node>', 'index', raw) }),
    async (args) => (await ops()).drainCommand(args))
    .command('cat <path>', 'print a file of the pool namespace, /cluster/<node>/<path>, from whichever node has it', (y) => opsOptions(y)
      .positional('path', { type: 'string', demandOption: true }),
    async (args) => (await ops()).catCommand(args))
    .command('logs <job>', "each attempt of a job: where it ran, its outcome, its error and what it printed (without --master: from mr run's history)", (y) => opsOptions(y, false)
      .positional('job', { type: 'string', demandOption: true })
      .option('task', { type: 'string', describe: 'only this task, e.g. map-3, reduce-0, s2.map-1' }),
    async (args) => (await ops()).logsCommand(args))
    .demandCommand(1, `give a command: ${COMMANDS.slice(0, -1).join(', ')} or ${COMMANDS.at(-1)}`)
    .middleware((args) => refuseRepeatedOptions(parser, args))
    // --s3-endpoint: where s3:// inputs are, for this process and the workers it starts (the AWS SDK's own variable).
    .middleware((args) => {
      if (typeof args.s3Endpoint === 'string') process.env.AWS_ENDPOINT_URL_S3 = args.s3Endpoint;
    })
    .strict()
    .help()
    .version(false)
    .fail((message, error) => {
      // yargs rethrows what a coerce threw (numberOption) as its own YError: still a usage error.
      if (error?.name === 'YError') throw new UsageError(error.message);
      if (error) throw error;
      throw new UsageError(unknownOption(message, parser, argv) ?? missingPositional(message, argv[0]) ?? `${message.replace(/\n/g, ' ')} (see mr --help)`);
    });
}

/** yargs' strict "Unknown argument: wrokers" as "unknown option --wrokers; did you mean '--workers'?". */
function unknownOption(message: string, parser: Argv, argv: readonly string[]): string | undefined {
  const match = /^Unknown arguments?: (.+)$/.exec(message.trim());
  if (!match) return undefined;
  const given = (name: string) => argv.some((token) => token === `--${name}` || token.startsWith(`--${name}=`));
  // yargs names each unknown option twice, as typed and camel-cased; the typed one is enough.
  const names = match[1]!.split(', ').filter((name) => !/[A-Z]/.test(name) || !given(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)));
  if (!names.every(given)) return `unexpected argument${names.length > 1 ? 's' : ''} ${names.join(', ')} (see mr --help)`;
  const known = Object.keys((parser as unknown as { getOptions(): { key: Record<string, boolean> } }).getOptions().key)
    .filter((name) => !/[A-Z]/.test(name) && name !== '$0');
  const near = names.length === 1 ? suggestion(names[0]!, known, '--') : '';
  return `unknown option${names.length > 1 ? 's' : ''} ${names.map((name) => `--${name}`).join(', ')}${near || ' (see mr --help)'}`;
}

/** The first word of argv when it names no command: "unknown command 'rnu'; did you mean 'run'?". */
function checkCommandName(argv: readonly string[]): void {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || (COMMANDS as readonly string[]).includes(first)) return;
  const near = suggestion(first, COMMANDS);
  throw new UsageError(`unknown command '${first}'${near || ' (see mr --help)'}`);
}

/** The options of the commands that ask a master; status, list and logs read mr run's history without one. */
function opsOptions<T>(y: Argv<T>, masterRequired = true) {
  return y
    .option('master', {
      type: 'string', demandOption: masterRequired,
      describe: masterRequired ? 'host:port of the master' : "host:port of the master (without it: the jobs mr run ran on its own master, from $MR_HOME/history or ~/.mr/history)",
    })
    .option('transport', { type: 'string', default: 'grpc' })
    .option('json', { type: 'boolean', describe: 'print JSON on stdout' })
    .options(tokenOptions);
}

async function main(): Promise<void> {
  reached('engine');
  try {
    armFailpoints(process.env.MR_FAILPOINTS, process.env.MR_FAILPOINT_ONCE); // a testing aid, see failpoints.ts
    readLogLevel(process.env.MR_LOG);
    const argv = process.argv.slice(2);
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === 'version')) return printVersion();
    if (argv[0] === EMBEDDED_WORKER && argv.length === 2) return await (await daemons()).workerCommand(JSON.parse(argv[1]!));
    checkCommandName(argv);
    // mr run's own code loads while yargs does: their file reads overlap (a tiny job's start-up).
    if (argv[0] === 'run') void run().catch(() => {});
    const parser = commands((await import('yargs')).default, argv);
    // yargs renders the whole help text whenever a command runs, to show it if the command fails
    // later (which .fail() above makes it never do): tens of ms at the start of every process.
    (parser as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } })
      .getInternalMethods().getUsageInstance().cacheHelpMessage = () => {};
    await parser.parseAsync();
  } catch (error) {
    report(error, wantsJson(process.argv.slice(2)));
  }
}

/** `mr --version`, `mr version`: the package's version, read only when asked (start-up stays short). */
function printVersion(): void {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`mr ${version}\n`);
}

/** --json anywhere before a `--`, read from argv itself: a usage error can come before yargs has parsed it. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((token) => token === '--json' || token === '--json=true');
}

/** MR_LOG=debug|info|warn|error: the level of the daemons' logs (info when unset). */
function readLogLevel(value: string | undefined): void {
  let level;
  try {
    level = parseLogLevel(value);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (level) setLogLevel(level);
}

function report(error: unknown, json: boolean): never {
  const code = error instanceof MrError ? error.exitCode : EXIT.jobFailed;
  const prefix = error instanceof MrError ? 'mr: ' : 'mr: internal error: ';
  process.stderr.write(`${prefix}${oneLine(error)}\n`);
  if (error instanceof JobFailedError && error.details.length) process.stderr.write(`${error.details.join('\n')}\n`);
  if (process.env.MR_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  // A script that asked for JSON gets an object whatever failed (mr run's own result object,
  // when it printed one, already says so).
  if (json && !(error instanceof JobFailedError && error.resultPrinted)) {
    process.stdout.write(`${JSON.stringify({ error: oneLine(error), exit: code })}\n`, () => process.exit(code));
    return undefined as never;
  }
  process.exit(code);
}

await main();
