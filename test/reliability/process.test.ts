// Process faults: workers and the master die (kill -9) in each phase of a job, a worker stalls
// (SIGSTOP) past its lease, a worker's disk fills up. Every job still ends with the sequential
// reference's output, byte for byte. Fail points (src/failpoints.ts, MR_FAILPOINTS) pick the phase.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { inputFiles, referenceLineLengthsMod7, referenceWordCount } from '../helpers/reference.ts';
import { BOOKS, FIXTURES, MR, ROOT, finished, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import type { FailpointName } from '../../src/failpoints.ts';
import { Journal } from '../../src/master/journal.ts';
import { mulberry32 } from '../../src/wires/chaos/chaos-random.ts';
import { FULL, reliabilityCase } from './harness.ts';

const WORDCOUNT = join(ROOT, 'jobs', 'wordcount.ts');
const SLOW_REDUCE = join(FIXTURES, 'slow-reduce.ts');

let dir: string;
const clusters: Cluster[] = [];
const others: ChildProcess[] = [];   // masters started again after a kill
beforeAll(async () => {
  dir = await tempDir('mr-process-');
});
// Each case's daemons go when it ends: a dozen idle clusters would crowd a small machine.
afterEach(async () => {
  const alive = others.splice(0).filter((p) => p.exitCode === null && p.signalCode === null);
  for (const p of alive) p.kill('SIGKILL');
  await Promise.all(alive.map((p) => new Promise((resolve) => p.once('exit', resolve))));
  for (const cluster of clusters.splice(0)) await cluster.stop();
});
afterAll(async () => {
  await removeDir(dir);
});

let booksWordCount: Map<string, string> | undefined;
function wordCountOfBooks(): Map<string, string> {
  booksWordCount ??= referenceWordCount(inputFiles(BOOKS));
  return booksWordCount;
}

let armedCount = 0;
/** The environment that arms one fail point, to fire once across every process that gets it. */
function armed(point: FailpointName): { env: NodeJS.ProcessEnv; once: string } {
  const once = join(dir, `fired-${armedCount++}`);
  return { env: { MR_FAILPOINTS: `${point}=kill`, MR_FAILPOINT_ONCE: once }, once };
}

/** Which point fired, and in which process (the once file says), or undefined if none did. */
async function fired(once: string): Promise<{ point: string; pid: number } | undefined> {
  const text = await readFile(once, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const [point, pid] = text.trim().split(' ');
  return { point, pid: Number(pid) };
}

/** An output directory holds the part files and _SUCCESS, nothing else (no attempt's temporary file). */
async function expectOnlyOutputFiles(out: string, reducers: number): Promise<void> {
  const parts = Array.from({ length: reducers }, (_, r) => `part-r-${String(r).padStart(5, '0')}`);
  expect((await readdir(out)).sort()).toEqual(['_SUCCESS', ...parts]);
}

interface Attempt { task: string; state: string; workerId: string; error: string }

async function attemptsOf(cluster: Cluster, jobId: string): Promise<Attempt[]> {
  return JSON.parse((await runMr(['logs', jobId, '--json', '--master', cluster.address])).stdout).attempts;
}

/** The pid in a worker id (w-<host>-<pid>-<random>). */
function pidOf(workerId: string): number {
  return Number(/-(\d+)-[0-9a-f]+$/.exec(workerId)![1]);
}

// --- workers killed ---------------------------------------------------------------------------

reliabilityCase('process', 'worker processes killed (SIGKILL) in map, by the job itself, are replaced (embedded)', async (ctx) => {
  const markerDir = join(dir, 'markers');
  await mkdir(markerDir);
  const out = join(dir, 'crashy');
  const r = await runMr(['run', join(FIXTURES, 'crashy.ts'), '--input', BOOKS, '--output', out, '--workers', '2', '--reducers', '3',
    '--set', 'crashFiles=pg-grimm.txt,pg-dorian_gray.txt,pg-tom_sawyer.txt', '--set', `markerDir=${markerDir}`, '--json', '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, wordCountOfBooks());
  await expectOnlyOutputFiles(out, 3);
  const stage = JSON.parse(r.stdout).stages[0];
  expect(stage.mapAttempts).toBeGreaterThanOrEqual(stage.mapTasks + 3);
  expect(stage.failedAttempts).toBe(0); // a lost worker is not the task's fault
}, { fast: true });

// Embedded mode sees its worker process exit; daemons see a worker's heartbeats stop. The commit
// case runs on daemons, where no `mr run` tidies the output directory after its workers.
const WORKER_POINTS = [
  { phase: 'map', point: 'worker.map.after-records', daemons: false },
  { phase: 'shuffle', point: 'worker.shuffle.after-first-run', daemons: false },
  { phase: 'reduce', point: 'worker.reduce.after-first-key', daemons: false },
  { phase: 'commit', point: 'worker.reduce.before-rename', daemons: true }, // allowed to commit, temporary file written, not renamed
] as const;

for (const { phase, point, daemons } of WORKER_POINTS) {
  const mode = daemons ? 'daemons' : 'embedded';
  reliabilityCase('process', `a worker killed (SIGKILL) in ${phase} (${point}): its tasks run again elsewhere (${mode})`, async (ctx) => {
    const { env, once } = armed(point);
    const out = join(dir, `worker-${phase}`);
    const run = ['run', WORDCOUNT, '--input', BOOKS, '--output', out, '--reducers', '3', '--json', '--quiet'];
    let r;
    if (daemons) {
      const cluster = await startCluster(join(dir, `worker-${phase}-cluster`), 3, ['--worker-timeout-ms', '3000', '--lease-ms', '6000'], [], env);
      clusters.push(cluster);
      r = await runMr([...run, '--master', cluster.address]);
      expect(cluster.workers.map((w) => w.pid)).toContain((await fired(once))?.pid);
    } else {
      r = await runMr([...run, '--workers', '2'], { env });
    }
    expect(await fired(once), 'the fail point fired').toMatchObject({ point });
    expect(r.code, r.stderr).toBe(0);
    await ctx.expectOutput(out, wordCountOfBooks());
    await expectOnlyOutputFiles(out, 3);
    const stage = JSON.parse(r.stdout).stages[0];
    if (!daemons) expect(stage.failedAttempts).toBe(0); // a worker seen to exit is lost, not failed
    // The dead worker's attempt ran again; in the reduce phase, so did the maps whose outputs it held.
    if (phase === 'map') expect(stage.mapAttempts).toBeGreaterThan(stage.mapTasks);
    else expect(stage.reduceAttempts).toBeGreaterThan(stage.reduceTasks);
  }, { fast: false });
}

reliabilityCase('process', 'a worker killed (SIGKILL) during the reduce phase loses its map outputs; they run again (daemons)', async (ctx) => {
  const cluster = await startCluster(join(dir, 'reduce-kill'), 3, ['--worker-timeout-ms', '2000', '--lease-ms', '4000']);
  clusters.push(cluster);
  const out = join(dir, 'reduce-kill-out');
  const child = startMr(['run', SLOW_REDUCE, '--input', BOOKS, '--output', out, '--master', cluster.address, '--reducers', '6']);
  const result = finished(child);
  let stderr = '';
  let killed = false;
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (!killed && / reduce [0-5]\/6 tasks/.test(stderr)) {
      killed = true;
      cluster.workers[0].kill('SIGKILL');
    }
  });
  const r = await result;
  expect(killed).toBe(true);
  expect(r.stderr).toMatch(/^job job-/m);
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, wordCountOfBooks());
  await expectOnlyOutputFiles(out, 6);
}, { fast: true });

// --- a worker stopped past its lease --------------------------------------------------------------

reliabilityCase('process', 'a worker stopped (SIGSTOP) past its lease, then continued: its late results are rejected (daemons)', async (ctx) => {
  const cluster = await startCluster(join(dir, 'stopped'), 2, ['--lease-ms', '1500', '--worker-timeout-ms', '1000']);
  clusters.push(cluster);
  const out = join(dir, 'stopped-out');
  // Slow maps (0.1 ms a line, ~3 s a worker), so that the stopped worker is surely in the middle of one.
  const follower = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', BOOKS, '--output', out, '--master', cluster.address,
    '--reducers', '2', '--split-mib', '0.25', '--set', 'lineMs=0.1']);
  const result = finished(follower);
  const [, jobId] = await stderrMatch(follower, /^job (\S+)$/m);
  // Stop a worker that is surely running an attempt: the worker id names its process.
  let running: Attempt | undefined;
  for (let tries = 0; tries < 100 && !running; tries++) running = (await attemptsOf(cluster, jobId)).find((a) => a.state === 'running');
  expect(running, 'an attempt seen running').toBeDefined();
  const pid = pidOf(running!.workerId);
  process.kill(pid, 'SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 3000)); // twice the lease
  process.kill(pid, 'SIGCONT');
  const r = await result;
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, referenceLineLengthsMod7(inputFiles(BOOKS)));
  await expectOnlyOutputFiles(out, 2);
  // The stopped worker's attempt was taken from it: lost with its worker (or failed, its lease run
  // out), cancelled when another copy committed, or its late result refused (rejected). Each such
  // task committed elsewhere.
  const attempts = await attemptsOf(cluster, jobId);
  const taken = attempts.filter((a) => ['rejected', 'lost', 'cancelled', 'failed'].includes(a.state));
  expect(taken.length).toBeGreaterThanOrEqual(1);
  for (const a of taken) expect(attempts.some((b) => b.task === a.task && b.state === 'succeeded')).toBe(true);
}, { fast: true });

// --- the master killed ----------------------------------------------------------------------------

/** Starts `mr master` again on the address and work dir of the one that died. */
async function restartMaster(cluster: Cluster, clusterDir: string): Promise<ChildProcess> {
  const master = spawn(process.execPath, [MR, 'master', '--listen', cluster.address, '--work-dir', join(clusterDir, 'master')],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  master.stderr!.resume(); // its log, drained
  others.push(master);
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: master.stdout! }).once('line', resolve);
    master.once('exit', (code) => reject(new Error(`the restarted mr master exited with ${code}`)));
  });
  expect(first).toBe(`listening ${cluster.address}`);
  return master;
}

const MASTER_POINTS = [
  { phase: 'map', point: 'master.map.after-commit', fast: true },           // a map committed, others not
  { phase: 'shuffle', point: 'master.shuffle.reduce-running', fast: false }, // every map done, reduces fetching
  { phase: 'reduce', point: 'master.reduce.after-commit', fast: false },    // a reduce committed, others not
  { phase: 'commit', point: 'master.commit.before-success', fast: false },  // every part file renamed, no _SUCCESS
] as const;

for (const { phase, point, fast } of MASTER_POINTS) {
  reliabilityCase('process', `the master killed (SIGKILL) in ${phase} (${point}) and started again: the job resumes from its journal (daemons)`, async (ctx) => {
    const { env, once } = armed(point);
    const clusterDir = join(dir, `master-${phase}`);
    const cluster = await startCluster(clusterDir, 2, [], [], env);
    clusters.push(cluster);
    const masterDied = new Promise<string>((resolve) => cluster.master.once('exit', (_code, signal) => resolve(`master died of ${signal}`)));
    const out = join(dir, `master-${phase}-out`);
    // In shuffle, a reduce must still run at a heartbeat after the maps are done: a slow one.
    const job = phase === 'shuffle' ? SLOW_REDUCE : WORDCOUNT;
    const follower = startMr(['run', job, '--input', BOOKS, '--output', out, '--master', cluster.address, '--reducers', '4', '--no-speculation']);
    const result = finished(follower);
    const outage = stderrMatch(follower, /unreachable.*retrying/);
    expect(await Promise.race([masterDied, result.then(() => 'the job ended first')])).toBe('master died of SIGKILL');
    expect(await fired(once)).toEqual({ point, pid: cluster.master.pid });
    await expectNoSuccess(out);
    await outage; // the follower has seen the master go; now it comes back
    await restartMaster(cluster, clusterDir);
    const r = await result;
    expect(r.stderr).toMatch(/the master is back/);
    expect(r.code, r.stderr).toBe(0);
    await ctx.expectOutput(out, wordCountOfBooks());
    await expectOnlyOutputFiles(out, 4);
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const status = JSON.parse((await runMr(['status', jobId, '--json', '--master', cluster.address])).stdout).jobs[0];
    expect(status.state).toBe('succeeded');
    // The restarted master counts only the attempts it started: work committed before the crash is not redone.
    const stage = status.stages[0];
    if (phase === 'map') expect(stage.mapAttempts).toBeLessThan(stage.mapTotal);
    else expect(stage.mapAttempts).toBe(0);
    if (phase === 'reduce') expect(stage.reduceAttempts).toBeLessThan(stage.reduceTotal);
    if (phase === 'commit') expect(stage.reduceAttempts).toBe(0);
  }, { fast, timeoutMs: 150_000 });
}

/** The task an attempt id names (`<job>.s1.map-12[.e2].a1`), as the journal names it. */
function taskOfAttempt(attemptId: string): string {
  const match = /\.s(\d+)\.(map|reduce)-(\d+)(?:\.e\d+)?\.a\d+$/.exec(attemptId);
  if (!match) throw new Error(`not an attempt id: ${attemptId}`);
  return `s${match[1]}.${match[2]}-${match[3]}`;
}

/** The tasks the workers were told committed (their "reports taken" debug lines) so far. */
function acknowledged(cluster: Cluster): Set<string> {
  const tasks = new Set<string>();
  for (const line of cluster.workerLog) {
    if (!line.includes('"msg":"reports taken"')) continue;
    for (const attemptId of JSON.parse(line).accepted as string[]) tasks.add(taskOfAttempt(attemptId));
  }
  return tasks;
}

/** The tasks the journal holds committed. */
function journaled(masterDir: string): Set<string> {
  return new Set(Journal.read(join(masterDir, 'journal.jsonl')).flatMap((r) => (r.t === 'task-done' ? [`s${r.stage}.${r.kind}-${r.index}`] : [])));
}

reliabilityCase('process', 'the master killed (SIGKILL) at random points of a job of many tiny tasks loses no commit it acknowledged (daemons, group commit)', async (ctx) => {
  const clusterDir = join(dir, 'master-random-kills');
  const inputDir = join(dir, 'tiny-inputs');
  await mkdir(inputDir, { recursive: true });
  const paths = Array.from({ length: 4000 }, (_, i) => join(inputDir, `f${i}.txt`));
  // Letters only: a word per file besides "tiny".
  await Promise.all(paths.map((path, i) => writeFile(path, `tiny w${String(i % 97).replace(/\d/g, (d) => 'abcdefghij'[Number(d)])}\n`)));
  const cluster = await startCluster(clusterDir, 2, [], [], { MR_LOG: 'debug' });
  clusters.push(cluster);
  const out = join(dir, 'master-random-kills-out');
  const follower = startMr(['run', WORDCOUNT, '--input', `${inputDir}/*`, '--output', out, '--master', cluster.address, '--reducers', '2', '--no-packing']);
  const result = finished(follower);
  let ended = false;
  void result.then(() => (ended = true));
  await stderrMatch(follower, /^job (\S+)$/m);
  const rng = mulberry32(7);
  let master = cluster.master;
  let kills = 0;
  let ackedBeforeLastKill = new Set<string>();
  for (let round = 0; round < 4 && !ended; round++) {
    await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(rng() * 600)));
    if (ended) break;
    const died = new Promise((resolve) => master.once('exit', resolve));
    master.kill('SIGKILL');
    await died;
    kills++;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the workers' last lines are in
    // Every commit a worker was told of is in the journal the next master starts from.
    const acked = acknowledged(cluster);
    const inJournal = journaled(join(clusterDir, 'master'));
    expect([...acked].filter((task) => !inJournal.has(task)), `acknowledged commits missing from the journal after kill ${kills}`).toEqual([]);
    ackedBeforeLastKill = acked;
    master = await restartMaster(cluster, clusterDir);
  }
  expect(kills, 'the master was killed while the job ran').toBeGreaterThanOrEqual(1);
  const r = await result;
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, referenceWordCount(paths));
  // The last master ran only what had not been acknowledged before it started: no committed task was redone.
  const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
  const redone = (await attemptsOf(cluster, jobId)).filter((a) => ackedBeforeLastKill.has(a.task));
  expect(redone.map((a) => a.task)).toEqual([]);
}, { fast: true, timeoutMs: 240_000 });

async function expectNoSuccess(out: string): Promise<void> {
  expect(await readdir(out).catch(() => [] as string[])).not.toContain('_SUCCESS');
}

// --- a worker's disk full -------------------------------------------------------------------------

/** Why a tmpfs cannot be mounted here (not root, no mount), or undefined when it can. */
function tmpfsProblem(): string | undefined {
  const probe = join(tmpdir(), `mr-tmpfs-probe-${process.pid}`);
  try {
    mkdirSync(probe, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs: ${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n')[0]}`;
  } finally {
    try { rmdirSync(probe); } catch { /* left busy or never made */ }
  }
}

/** Input whose map output is megabytes per task: 3 files of 300 k words drawn from 200 k distinct ones. */
async function writeManyWordsInput(inputDir: string): Promise<string[]> {
  await mkdir(inputDir, { recursive: true });
  const word = (n: number): string => {
    let w = '';
    for (let i = 0; i < 5; i++, n = Math.floor(n / 26)) w += String.fromCharCode(97 + (n % 26));
    return `${w}${String.fromCharCode(97 + (n % 7))}`;
  };
  let seed = 12345; // xorshift32: the same words on every run
  const files: string[] = [];
  for (let f = 0; f < 3; f++) {
    const lines: string[] = [];
    for (let l = 0; l < 30_000; l++) {
      const words: string[] = [];
      for (let i = 0; i < 10; i++) {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        words.push(word(((seed >>> 0) % 200_000) * 61));
      }
      lines.push(words.join(' '));
    }
    const file = join(inputDir, `words-${f}.txt`);
    await writeFile(file, `${lines.join('\n')}\n`);
    files.push(file);
  }
  return files;
}

const mountProblem = FULL ? tmpfsProblem() : undefined;

reliabilityCase('process', "a worker's disk full (a 2 MiB tmpfs as its work dir): its attempts fail with ENOSPC and run on other workers (daemons)", async (ctx) => {
  const clusterDir = join(dir, 'disk-full');
  const small = join(clusterDir, 'worker-0'); // startCluster gives its first worker this work dir
  await mkdir(small, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small], { stdio: 'pipe' });
  let cluster: Cluster | undefined;
  try {
    const files = await writeManyWordsInput(join(dir, 'many-words'));
    cluster = await startCluster(clusterDir, 3);
    const out = join(dir, 'disk-full-out');
    // A 2 MiB sort buffer: every map spills runs to its worker's disk, megabytes of them in all.
    const r = await runMr(['run', WORDCOUNT, '--input', join(dir, 'many-words', '*.txt'), '--output', out, '--master', cluster.address,
      '--reducers', '2', '--sort-buffer-mib', '2', '--no-speculation']);
    expect(r.code, r.stderr).toBe(0);
    await ctx.expectOutput(out, referenceWordCount(files));
    await expectOnlyOutputFiles(out, 2);
    const jobId = /^job (\S+)$/m.exec(r.stderr)![1];
    const attempts = await attemptsOf(cluster, jobId);
    const full = cluster.workers[0].pid;
    const failed = attempts.filter((a) => a.state === 'failed');
    expect(failed.length, 'attempts failed on the full disk').toBeGreaterThanOrEqual(1);
    for (const a of failed) {
      expect(pidOf(a.workerId)).toBe(full);
      expect(a.error).toMatch(/ENOSPC/);
      expect(a.error).toMatch(/no space/i);
      expect(attempts.some((b) => b.task === a.task && b.state === 'succeeded' && pidOf(b.workerId) !== full)).toBe(true);
    }
    expect((await runMr(['logs', jobId, '--master', cluster.address])).stdout).toMatch(/ENOSPC/);
    // A failed attempt leaves nothing behind: the worker's disk is free again for the next task.
    expect(await readdir(join(small, 'map-out'))).toEqual([]);
    expect(await readdir(join(small, 'reduce-in'))).toEqual([]);
  } finally {
    await cluster?.stop();
    execFileSync('umount', ['-l', small], { stdio: 'pipe' });
  }
}, { fast: false, skip: mountProblem, timeoutMs: 150_000 });
