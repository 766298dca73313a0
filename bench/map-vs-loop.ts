// One map task of the word count in this process against the same job functions in a plain
// loop, over the same file, back to back: how much the map path costs beyond the job's own work.
// Usage: node bin/tsx.mjs bench/map-vs-loop.ts <file> [--repeat 3]   (prints; asserts nothing)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import job from '../jobs/wordcount.ts';
import { DEFAULTS } from '../src/config.ts';
import type { JobSpec } from '../src/wires/messages.ts';
import { runMapTask } from '../src/worker/map-task.ts';
import { MemoryFirstOutputStore } from '../src/worker/memory-first-store.ts';
import { runJobSequentially } from './lib/sequential-loop.ts';

const [file, flag, count] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/tsx.mjs bench/map-vs-loop.ts <file> [--repeat N]');
  process.exit(2);
}
const repeat = flag === '--repeat' ? Number(count) : 3;
const bytes = statSync(file).size;
const spec: JobSpec = {
  jobPath: '', inputFiles: [], outputDir: '', reducers: DEFAULTS.reducers, inputMode: 'lines', options: {},
  splitBytes: 0, sortBufferBytes: DEFAULTS.sortBufferBytes, maxAttempts: 1, speculation: false, parallelism: 1, jobHash: '', noPacking: false,
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
