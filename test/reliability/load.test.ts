// Load: many jobs at once on one master, many tiny inputs, one huge input, and a skewed key.
// Every run must write exactly the sequential reference; the huge one must be split and stay
// within bounded memory, and the skewed one must be named in `mr status` with its reason.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { defaultPartition } from '../../src/core/partitioner.ts';
import { MAX_SPLIT_BYTES } from '../../src/core/splits.ts';
import { startCluster } from '../helpers/cluster.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';
import { BOOKS, FIXTURES, finished, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { until } from '../helpers/until.ts';
import { reliabilityCase } from './harness.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('mr-load-');
});
afterAll(async () => {
  await removeDir(dir);
});

/** A small deterministic generator (LCG), so every run of the suite reads the same input. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

async function mrJson(args: string[]): Promise<Record<string, any>> {
  const result = await runMr(args);
  if (result.code !== 0) throw new Error(`mr ${args.slice(0, 2).join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout);
}

reliabilityCase('load', '50 jobs submitted at once to one daemon master (2 workers): all succeed, each output exact', async (ctx) => {
  const books = inputFiles(BOOKS);
  const references = new Map(books.map((book) => [book, referenceWordCount([book])]));
  const cluster = await startCluster(join(dir, 'cluster-50'), 2);
  try {
    const jobs = Array.from({ length: 50 }, (_, i) => {
      const book = books[i % books.length];
      const out = join(dir, `jobs-50`, `out-${i}`);
      const child = startMr(['run', 'jobs/wordcount.ts', '--input', book, '--output', out, '--reducers', '2',
        '--master', cluster.address, '--json', '--quiet']);
      return { book, out, result: finished(child) };
    });
    const ids = new Set<string>();
    for (const [i, job] of jobs.entries()) {
      const result = await job.result;
      expect(result.code, `job ${i} (${basename(job.book)}): ${result.stderr.slice(-1000)}`).toBe(0);
      const json = JSON.parse(result.stdout);
      expect(json.ok).toBe(true);
      ids.add(json.jobId);
      await ctx.expectOutput(job.out, references.get(job.book)!);
    }
    expect(ids.size).toBe(50);
    // The master kept every job apart: 50 jobs known, each succeeded, each with its own output.
    const status = await mrJson(['status', '--master', cluster.address, '--json']);
    const known = status.jobs.filter((job: { id: string }) => ids.has(job.id));
    expect(known.map((job: { state: string }) => job.state)).toEqual(Array(50).fill('succeeded'));
    expect(new Set(known.map((job: { outputDir: string }) => job.outputDir)).size).toBe(50);
  } finally {
    await cluster.stop();
    await rm(join(dir, 'jobs-50'), { recursive: true, force: true });
  }
}, { timeoutMs: 300_000 });

reliabilityCase('load', '10,000 tiny input files: one job, one map task each, exact output', async (ctx) => {
  const inputDir = join(dir, 'tiny');
  await mkdir(inputDir, { recursive: true });
  const random = prng(10_000);
  const vocabulary = Array.from({ length: 400 }, (_, i) => `w${'abcdefghij'[i % 10]}${'klmnopqrst'[Math.floor(i / 10) % 10]}${'uvwx'[Math.floor(i / 100)]}`);
  const counts = new Map<string, number>();
  const files = 10_000;
  for (let start = 0; start < files; start += 500) {
    await Promise.all(Array.from({ length: Math.min(500, files - start) }, (_, k) => {
      const words = Array.from({ length: 2 + Math.floor(random() * 5) }, () => vocabulary[Math.floor(random() * vocabulary.length)]);
      for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
      return writeFile(join(inputDir, `f-${String(start + k).padStart(5, '0')}.txt`), `${words.join(' ')}\n`);
    }));
  }
  const out = join(dir, 'tiny-out');
  try {
    const json = await mrJson(['run', 'jobs/wordcount.ts', '--input', join(inputDir, '*.txt'), '--output', out,
      '--workers', '2', '--reducers', '4', '--no-packing', '--json', '--quiet']);
    expect(json.stages[0].mapTasks).toBe(files);
    expect(json.stages[0].counters['map.inputRecords']).toBe(files);
    // 400 words spread by the hash over 4 reducers: no reducer is called skewed.
    expect(json.stages[0].stragglers.filter((s: { skewed: boolean }) => s.skewed)).toEqual([]);
    await ctx.expectOutput(out, new Map([...counts].map(([word, n]) => [word, String(n)])));
  } finally {
    await rm(inputDir, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
}, { timeoutMs: 300_000 });

reliabilityCase('load', 'one 2 GiB input file: split into many map tasks, bounded memory, exact output', async (ctx) => {
  // One copy: every book, each ending with a newline, so that copies never merge lines.
  const copy = Buffer.concat(await Promise.all(inputFiles(BOOKS).map(async (book) => {
    const text = await readFile(book);
    return text.at(-1) === 0x0a ? text : Buffer.concat([text, Buffer.from('\n')]);
  })));
  const copies = Math.ceil(2 ** 31 / copy.length);
  const perCopy = new Map<string, number>();
  const lines = copy.toString('utf8').split('\n');
  lines.pop();
  for (const line of lines) {
    const key = String(line.replace(/\r$/, '').length % 7);
    perCopy.set(key, (perCopy.get(key) ?? 0) + 1);
  }
  const reference = new Map([...perCopy].map(([key, n]) => [key, String(n * copies)]));
  const big = join(dir, 'big.txt');
  const out = join(dir, 'big-out');
  try {
    const stream = createWriteStream(big);
    for (let i = 0; i < copies; i++) {
      if (!stream.write(copy)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const size = (await stat(big)).size;
    expect(size).toBeGreaterThanOrEqual(2 ** 31);
    const json = await mrJson(['run', join(FIXTURES, 'line-lengths.ts'), '--input', big, '--output', out,
      '--workers', '2', '--reducers', '2', '--json', '--quiet']);
    await ctx.expectOutput(out, reference);
    const stage = json.stages[0];
    // Cut into splits of at most 16 MiB, each line read once.
    expect(stage.mapTasks).toBeGreaterThanOrEqual(Math.ceil(size / MAX_SPLIT_BYTES));
    expect(stage.counters['map.inputBytes']).toBe(size);
    expect(stage.counters['map.inputRecords']).toBe(lines.length * copies);
    // Memory is bounded by the split and the sort buffer, not by the input (about 200 MiB a worker
    // when measured; a worker's heap is capped at 384 MiB): no process reaches 768 MiB.
    for (const p of json.processes) expect(p.maxRssKiB, `${p.role} ${p.pid} max RSS (KiB)`).toBeLessThan(768 << 10);
  } finally {
    await rm(big, { force: true });
    await rm(out, { recursive: true, force: true });
  }
}, { timeoutMs: 360_000 });

/**
 * Lines "key x": 30% of them have the key "hot", the rest one of 5,000 others. Returns the file's
 * reference (key -> count) and, per reducer, the records its partition gets.
 */
async function skewedInput(path: string, lines: number, reducers: number): Promise<{ reference: Map<string, string>; perReducer: number[] }> {
  const random = prng(30);
  const counts = new Map<string, number>();
  const text: string[] = [];
  for (let i = 0; i < lines; i++) {
    const key = i % 10 < 3 ? 'hot' : `k${Math.floor(random() * 5000)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    text.push(`${key} x\n`);
  }
  await writeFile(path, text.join(''));
  const perReducer = Array<number>(reducers).fill(0);
  for (const [key, n] of counts) perReducer[defaultPartition(key, reducers)] += n;
  return { reference: new Map([...counts].map(([key, n]) => [key, String(n)])), perReducer };
}

reliabilityCase('load', 'skew: one key holds 30% of the records; mr status names the skewed reducer while it runs, and why', async (ctx) => {
  const reducers = 4;
  const input = join(dir, 'skew.txt');
  const { reference, perReducer } = await skewedInput(input, 100_000, reducers);
  const hot = defaultPartition('hot', reducers);
  const cluster = await startCluster(join(dir, 'cluster-skew'), 2);
  const out = join(dir, 'skew-out');
  try {
    // The reduce waits 120 µs per value: the hot reducer runs for seconds after the others.
    const child = startMr(['run', join(FIXTURES, 'skewed-keys.ts'), '--input', input, '--output', out, '--reducers', String(reducers),
      '--master', cluster.address, '--set', 'valueUs=120', '--no-speculation', '--json']);
    const done = finished(child);
    const jobId = (await stderrMatch(child, /^job (\S+)$/m))[1];
    const status = async () => (await mrJson(['status', jobId, '--master', cluster.address, '--json'])).jobs[0];
    // While the job runs: once every map is done, each reducer's input is known, and the hot one is skewed.
    const seen = await until('the skewed reducer in mr status', async () => {
      const job = await status();
      if (job.state !== 'running') throw new Error(`the job ended (${job.state}) before mr status named its skewed reducer`);
      return job.stages[0].stragglers.find((s: { skewed: boolean }) => s.skewed) ? job : undefined;
    }, 60_000, 300);
    const stage = seen.stages[0];
    expect(stage.reduces.map((r: { inputRecords: number }) => r.inputRecords)).toEqual(perReducer);
    expect(stage.reduces.every((r: { inputKnown: boolean }) => r.inputKnown)).toBe(true);
    const skewed = stage.stragglers.filter((s: { skewed: boolean }) => s.skewed);
    expect(skewed.map((s: { taskIndex: number }) => s.taskIndex)).toEqual([hot]);
    const share = perReducer[hot] / perReducer.reduce((a, b) => a + b, 0);
    expect(skewed[0]).toMatchObject({ kind: 'reduce', fairShare: 1 / reducers });
    expect(skewed[0].inputShare).toBeCloseTo(share, 6);
    expect(skewed[0].message).toContain(`reducer ${hot}: ${Math.round(share * 100)}% of the reduce input records (fair share 25%)`);

    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    await ctx.expectOutput(out, reference);
    // mr run says so at the end, and its --json has the same figures per stage.
    expect(result.stderr).toContain(`mr: skewed reducer ${hot}: ${Math.round(share * 100)}% of the reduce input records`);
    const json = JSON.parse(result.stdout);
    expect(json.stages[0].stragglers.filter((s: { skewed: boolean }) => s.skewed).map((s: { taskIndex: number }) => s.taskIndex)).toEqual([hot]);
    // After the end, the human mr status lists every reducer's input and the straggler line.
    const human = await runMr(['status', jobId, '--master', cluster.address]);
    expect(human.code, human.stderr).toBe(0);
    for (let r = 0; r < reducers; r++) expect(human.stdout).toMatch(new RegExp(`reducer ${r}: done .* input ${perReducer[r]} records, \\d+ bytes\\n`));
    expect(human.stdout).toContain(`straggler: reducer ${hot}: ${Math.round(share * 100)}% of the reduce input records (fair share 25%)`);
  } finally {
    await cluster.stop();
    await rm(out, { recursive: true, force: true });
  }
}, { timeoutMs: 180_000 });

reliabilityCase('load', 'skew, embedded mr run: it warns at the end which reducer was skewed', async (ctx) => {
  const reducers = 4;
  const input = join(dir, 'skew-small.txt');
  const { reference, perReducer } = await skewedInput(input, 20_000, reducers);
  const hot = defaultPartition('hot', reducers);
  const out = join(dir, 'skew-small-out');
  const result = await runMr(['run', join(FIXTURES, 'skewed-keys.ts'), '--input', input, '--output', out,
    '--reducers', String(reducers), '--workers', '2', '--json']);
  expect(result.code, result.stderr).toBe(0);
  await ctx.expectOutput(out, reference);
  const share = Math.round((perReducer[hot] / 20_000) * 100);
  expect(result.stderr).toContain(`mr: skewed reducer ${hot}: ${share}% of the reduce input records (fair share 25%)`);
  const stage = JSON.parse(result.stdout).stages[0];
  expect(stage.reduces.map((r: { inputRecords: number }) => r.inputRecords)).toEqual(perReducer);
  expect(stage.stragglers.filter((s: { skewed: boolean }) => s.skewed).map((s: { taskIndex: number }) => s.taskIndex)).toEqual([hot]);
  await rm(out, { recursive: true, force: true });
}, { fast: true, timeoutMs: 120_000 });
