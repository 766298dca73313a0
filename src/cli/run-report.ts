// `mr run` from arguments to exit code: checks the arguments, runs the job, and reports the
// outcome (a summary line on stderr, or one JSON object on stdout with --json).
import { relative } from 'node:path';
import { EXIT, JobFailedError } from '../errors.ts';
import type { JobStatus } from '../wires/messages.ts';
import { formatBackendReport } from './backend-report.ts';
import { formatChaosSummary } from './chaos-args.ts';
import { failedAttemptLines, failedAttemptOf } from './failed-attempt.ts';
import { Progress } from './progress.ts';
import { buildRunConfig, type RunArgs, type RunConfig } from './run-config.ts';
import { discardEarlyWorkers, earlyWorkersFit, startWorkersEarly } from './early-workers.ts';
import { interrupted, onInterrupt, onExitAtOnce, runJob } from './run-command.ts';
import { endClaim, releaseOutputDir } from '../storage/output-dir.ts';
import { DEFAULTS } from '../config.ts';

export async function runCommand(args: RunArgs & { typecheck?: boolean }): Promise<void> {
  if (args.typecheck) await (await import('./check-command.ts')).typecheckBeforeRun(args.jobs);
  // From the start: a signal while the output directory is being made must not leave it behind.
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  const early = startWorkersEarly(args);
  let config: RunConfig;
  try {
    config = await buildRunConfig(args);
  } catch (error) {
    discardEarlyWorkers(early);
    throw error;
  }
  const release = (): void => {
    if (config.output) releaseOutputDir(config.output);
  };
  // A second Ctrl-C or SIGTERM (`timeout` sends two: to mr run, then to its process group) exits at
  // once, once the workers are killed: the output this run made goes too, and so does its claim.
  onExitAtOnce(() => {
    if (config.output) releaseOutputDir(config.output, DEFAULTS.exitSettleMs);
  });
  if (interrupted()) {
    discardEarlyWorkers(early);
    release();
    throw new JobFailedError('interrupted before the job was submitted; no output was written');
  }
  const progress = new Progress({
    quiet: config.quiet, tty: !!process.stderr.isTTY, write: (text) => process.stderr.write(text), columns: () => process.stderr.columns,
  });
  // The bar ends before anything else is written, an error included.
  const fits = early !== undefined && earlyWorkersFit(early, config);
  if (!fits) discardEarlyWorkers(early);
  const outcome = await runJob(config, progress, fits ? early : undefined).finally(() => progress.end()).then(
    (result) => {
      if (result.status.state !== 'succeeded') release();
      else if (config.output) endClaim(config.output);
      return result;
    },
    (error: unknown) => {
      release();
      throw error;
    },
  );
  const { status, backend, chaos, attempts } = outcome;
  const failed = failedAttemptOf(status, attempts ?? []);
  if (config.json) await writeOut(JSON.stringify({ ...resultJson(status, config.uber), backend, ...(chaos ? { chaos } : {}), ...(failed ? { failedAttempt: failed } : {}) }) + '\n');
  if (config.report) process.stderr.write(formatBackendReport(backend, status.elapsedMs, config.uber).join('\n') + '\n');
  if (chaos && !config.quiet) process.stderr.write(formatChaosSummary(chaos) + '\n');
  if (status.state === 'succeeded') {
    if (!config.quiet) {
      const rel = status.outputDir.startsWith('s3://') ? status.outputDir : relative(process.cwd(), status.outputDir);
      const where = rel === '' ? '.' : rel.startsWith('..') ? status.outputDir : rel;
      status.stages.forEach((stage, i) => {
        const counters = Object.entries(stage.counters).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(' ');
        process.stderr.write(`mr: ${status.stages.length > 1 ? `stage ${i + 1} ` : ''}counters: ${counters}\n`);
      });
      for (const line of skewLines(status)) process.stderr.write(`${line}\n`);
      // The job's handle for mr status and mr logs, which read the history after a plain mr run.
      process.stderr.write(`mr: done in ${(status.elapsedMs / 1000).toFixed(1)} s: ${status.files.length} output file(s) in ${where} (job ${status.jobId})\n`);
    }
    process.exit(EXIT.ok);
  }
  const reason = status.state === 'killed' ? 'the job was killed; no output was written' : `job failed: ${status.error}`;
  // Shown with --quiet too: it is part of the error. With --json the object carries it instead.
  const logs = `mr logs ${status.jobId}${config.master ? ` --master ${config.master}` : ''}`;
  throw new JobFailedError(reason, failed && !config.json ? failedAttemptLines(failed, logs) : [], config.json);
}

/** A warning per skewed reducer: its job finished, but one partition held far more than its share. */
export function skewLines(status: JobStatus): string[] {
  return status.stages.flatMap((stage, i) => (stage.stragglers ?? []).filter((s) => s.skewed)
    .map((s) => `mr: ${status.stages.length > 1 ? `stage ${i + 1} ` : ''}skewed ${s.message}`));
}

function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

/** The --json result: the contract's fields, plus how the tasks ran (uber: in mr run itself), per-phase times and per-process figures. */
export function resultJson(status: JobStatus, uber = false): Record<string, unknown> {
  return {
    ok: status.state === 'succeeded',
    jobId: status.jobId,
    state: status.state,
    ...(status.error ? { error: status.error } : {}),
    outputDir: status.outputDir,
    files: [...status.files].sort(),
    elapsedMs: status.elapsedMs,
    uber,
    stages: status.stages.map((stage) => ({
      mapTasks: stage.mapTotal,
      reduceTasks: stage.reduceTotal,
      elapsedMs: stage.elapsedMs,
      mapPhaseMs: stage.mapPhaseMs,
      reducePhaseMs: stage.reducePhaseMs,
      failedAttempts: stage.failedAttempts,
      mapAttempts: stage.mapAttempts,
      reduceAttempts: stage.reduceAttempts,
      backupAttempts: stage.backupAttempts,
      counters: stage.counters,
      reduces: stage.reduces ?? [],
      stragglers: stage.stragglers ?? [],
    })),
    processes: status.processes.map((p) => ({
      role: p.role, pid: p.pid, cpuMs: p.cpuMs, maxRssKiB: p.maxRssKib, ...(p.chaos ? { chaos: p.chaos } : {}), startup: startupSteps(p),
    })),
  };
}

/**
 * When the process started and reached each step of its start-up, in ms since this mr run
 * began (negative: before it, as a daemon's); a step not reached is left out.
 */
function startupSteps(p: JobStatus['processes'][number]): Record<string, number> {
  const since = (epochMs: number | undefined) => (epochMs ? Math.round(epochMs - performance.timeOrigin) : undefined);
  const steps = { startedMs: since(p.startedAtMs), engineMs: since(p.engineAtMs), readyMs: since(p.readyAtMs), firstTaskMs: since(p.firstTaskAtMs) };
  return Object.fromEntries(Object.entries(steps).filter(([, ms]) => ms !== undefined)) as Record<string, number>;
}
