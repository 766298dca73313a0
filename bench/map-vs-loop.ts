// One map task of the word count in this process against the same job functions in a plain
// loop, over the same file, back to back: how much the map path costs beyond the job's own work.
// Usage: node bin/tsx.mjs bench/map-vs-loop.ts <file> [--repeat 3] [--job jobs/wordcount.ts]   (prints; asserts nothing)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../src/config.ts';
import type { JobSpec } from '../src/wires/messages.ts';
import { loadJob } from '../src/worker/job-loader.ts';
import { runMapTask } from '../src/worker/map-task.ts';
import { MemoryFirstOutputStore } from '../src/worker/memory-first-store.ts';
import { runJobSequentially } from './lib/sequential-loop.ts';

const { positionals: [file], values } = parseArgs({ allowPositionals: true, options: { repeat: { type: 'string', default: '3' }, job: { type: 'string', default: 'jobs/wordcount.ts' } } });
if (!file) {
  console.error('usage: node bin/tsx.mjs bench/map-vs-loop.ts <file> [--repeat N] [--job <job file>]');
  process.exit(2);
}
const repeat = Number(values.repeat);
const { job } = await loadJob(resolve(values.job));
const bytes = statSync(file).size;
const spec: JobSpec = {
  jobPath: '', inputFiles: [], outputDir: '', reducers: DEFAULTS.reducers, inputMode: 'lines', options: {},
  splitBytes: 0, sortBufferBytes: DEFAULTS.sortBufferBytes, maxAttempts: 1, speculation: false, parallelism: 1, jobHash: '', noPacking: false, checkpointMs: 0,
};

async function timed(what: string, run: () => Promise<unknown>): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1e6;
  console.log(`${what.padEnd(16)} ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s`);
}

for (let i = 0; i < repeat; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'mr-map-vs-loop-'));
  await timed('map task', () => runMapTask(job, { attemptId: `a${i}`, spec, splits: [{ path: file, start: 0, end: bytes, wholeFile: false, fileBytes: 0, mtimeMs: 0 }] },
    new MemoryFirstOutputStore(dir), new AbortController().signal));
  rmSync(dir, { recursive: true, force: true });
  await timed('sequential loop', () => runJobSequentially(job, file));
}
