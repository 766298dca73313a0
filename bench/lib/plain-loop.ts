// One plain loop (runJobSequentially) of a job's own functions over one file, in a process of its
// own, so that one loop's heap never slows the runs after it. Prints one JSON line, as
// byte-floor.mjs does; with --counts, writes the counts there (key<TAB>value lines) for checking.
// Usage: node bin/tsx.mjs bench/lib/plain-loop.ts <job.ts> <file> [--counts <out>]
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobDefinition } from 'mr';
import { runJobSequentially } from './sequential-loop.ts';
import type { WordCounts } from './word-counts.ts';

async function writeCounts(path: string, counts: WordCounts): Promise<void> {
  const out = createWriteStream(path);
  for (const [key, value] of counts) {
    if (!out.write(`${key}\t${value}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const [jobPath, file] = process.argv.slice(2);
  const countsAt = process.argv.indexOf('--counts');
  const countsPath = countsAt > 0 ? process.argv[countsAt + 1] : undefined;
  if (!jobPath || !file || (countsAt > 0 && !countsPath)) {
    console.error('usage: node bin/tsx.mjs bench/lib/plain-loop.ts <job.ts> <file> [--counts <out>]');
    process.exit(2);
  }
  const job = ((await import(pathToFileURL(resolve(jobPath)).href)) as { default: JobDefinition }).default;
  const started = performance.now();
  const counts = await runJobSequentially(job, file);
  // Only the loop is timed: the process start and the counts written for the check are the bench's.
  const elapsedMs = performance.now() - started;
  if (countsPath) await writeCounts(countsPath, counts);
  console.log(JSON.stringify({ job: jobPath, distinct: counts.size, elapsedMs, maxRssKiB: process.resourceUsage().maxRSS }));
}

main().catch((error: unknown) => {
  console.error(`plain-loop: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
