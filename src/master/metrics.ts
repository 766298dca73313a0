// The master's Prometheus metrics (served at /metrics by mr master --http). Counters are fed by the
// master's events (an attempt got its outcome in the attempt history: attemptEnded); gauges are read
// from its state at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { assignableTasks, type TaskRecord } from '../core/task-table.ts';
import { isFinished, type JobRecord, type WorkerRecord } from '../core/scheduler-records.ts';
import { COUNTER } from '../core/counters.ts';
import type * as M from '../wires/messages.ts';

/** What the gauges read: the scheduler's jobs and workers (a Master fits). */
export interface MetricsView {
  scheduler: { jobs: ReadonlyMap<string, JobRecord>; workers: ReadonlyMap<string, WorkerRecord> };
}

const KINDS = ['map', 'reduce'] as const;
const OUTCOMES = ['succeeded', 'failed', 'rejected', 'lost', 'cancelled'] as const;
const TASK_STATES = ['pending', 'running', 'done'] as const;
const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'killed'] as const;
const DURATION_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export class MasterMetrics {
  readonly registry = new Registry();
  private view?: MetricsView;
  private readonly attempts: Counter<'kind' | 'outcome'>;
  private readonly failures: Counter<'kind'>;
  private readonly shuffleBytes: Counter;
  private readonly durations: Histogram<'kind'>;

  constructor(private readonly now: () => number = Date.now) {
    const registers = [this.registry];
    const metrics = this; // collect() runs with the metric as `this`
    this.attempts = new Counter({
      name: 'mr_attempts_total',
      help: 'Task attempts that ended, by kind and outcome (succeeded, failed, rejected: a late duplicate, lost: its worker or its input went away, cancelled: its job ended or another copy committed)',
      labelNames: ['kind', 'outcome'], registers,
    });
    this.failures = new Counter({ name: 'mr_attempt_failures_total', help: 'Task attempts whose function threw or whose process died, by kind', labelNames: ['kind'], registers });
    this.shuffleBytes = new Counter({ name: 'mr_shuffle_bytes_total', help: 'Bytes of map output read by committed reduce attempts', registers });
    this.durations = new Histogram({ name: 'mr_task_duration_seconds', help: 'Time of the committed attempt of each task, by kind', labelNames: ['kind'], buckets: DURATION_BUCKETS_S, registers });
    for (const kind of KINDS) {
      this.failures.inc({ kind }, 0);
      for (const outcome of OUTCOMES) this.attempts.inc({ kind, outcome }, 0);
    }
    new Gauge({
      name: 'mr_tasks', help: 'Tasks of each job and stage, by kind and state (pending, running, done)', labelNames: ['job', 'stage', 'kind', 'state'], registers,
      collect() {
        this.reset();
        for (const row of taskRows(metrics.jobs())) this.set(row.labels, row.value);
      },
    });
    new Gauge({
      name: 'mr_queue_length', help: 'Tasks waiting for a worker', registers,
      collect() {
        this.set(queueLength(metrics.jobs()));
      },
    });
    new Gauge({
      name: 'mr_jobs', help: 'Jobs on this master, by state', labelNames: ['state'], registers,
      collect() {
        for (const [state, count] of Object.entries(jobCounts(metrics.jobs()))) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'mr_worker_heartbeat_age_seconds', help: 'Time since each worker was last heard from', labelNames: ['worker'], registers,
      collect() {
        this.reset();
        const nowMs = metrics.now();
        for (const worker of metrics.view?.scheduler.workers.values() ?? []) this.set({ worker: worker.id }, Math.max(0, nowMs - worker.lastSeenMs) / 1000);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The master whose state the gauges read. */
  attach(view: MetricsView): void {
    this.view = view;
  }

  /** An attempt got its outcome, once (MasterOptions.onAttemptEnd). */
  readonly attemptEnded = (attempt: M.AttemptLog, counters: Record<string, number>): void => {
    const kind = kindOfTask(attempt.task);
    if (!kind) return;
    this.attempts.inc({ kind, outcome: attempt.state });
    if (attempt.state === 'failed') this.failures.inc({ kind });
    if (attempt.state === 'succeeded') {
      this.durations.observe({ kind }, Math.max(0, attempt.endedMs - attempt.startedMs) / 1000);
      this.shuffleBytes.inc(counters[COUNTER.shuffleBytes] ?? 0);
    }
  };

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private jobs(): Iterable<JobRecord> {
    return this.view?.scheduler.jobs.values() ?? [];
  }
}

/** "s2.map-3" → map. */
export function kindOfTask(task: string): 'map' | 'reduce' | undefined {
  return /(?:^|\.)(map|reduce)-\d+$/.exec(task)?.[1] as 'map' | 'reduce' | undefined;
}

export interface GaugeRow {
  labels: { job: string; stage: string; kind: string; state: string };
  value: number;
}

/** Tasks by job, stage, kind and state, every state listed (0 included). */
export function taskRows(jobs: Iterable<JobRecord>): GaugeRow[] {
  const rows: GaugeRow[] = [];
  for (const job of jobs) {
    job.stages.forEach((stage, i) => {
      for (const [kind, tasks] of [['map', stage.maps], ['reduce', stage.reduces]] as const) {
        for (const state of TASK_STATES) {
          rows.push({ labels: { job: job.id, stage: String(i + 1), kind, state }, value: countState(tasks, state) });
        }
      }
    });
  }
  return rows;
}

function countState(tasks: readonly TaskRecord[], state: string): number {
  return tasks.reduce((n, task) => n + (task.state === state ? 1 : 0), 0);
}

/** Tasks a worker could be given now: the pending tasks of the current phase of each unfinished job. */
export function queueLength(jobs: Iterable<JobRecord>): number {
  let queued = 0;
  for (const job of jobs) {
    const stage = job.stages[job.stages.length - 1];
    if (isFinished(job.state) || !stage || job.awaitingStage) continue;
    for (const _task of assignableTasks(stage)) queued++;
  }
  return queued;
}

export function jobCounts(jobs: Iterable<JobRecord>): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(JOB_STATES.map((state) => [state, 0]));
  for (const job of jobs) counts[job.state] = (counts[job.state] ?? 0) + 1;
  return counts;
}
