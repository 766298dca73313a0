// Inputs and outputs in object storage, against a real S3-compatible server (s3rver, started here
// on a free loopback port): mr run --input 's3://bucket/prefix/*.txt' lists the objects, splits a
// large one by byte ranges as it would a file, and counts the same words as from the same files on
// disk; --output s3://bucket/prefix/ gets one whole part object per reducer, then _SUCCESS, even
// when a reducer dies mid-upload, and nothing at all when the job fails.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKS, FIXTURES, finished, readParts, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { inputFiles } from '../helpers/reference.ts';
import { S3_ENV, startS3, type TestStore } from '../helpers/s3.ts';

let dir: string;
let store: TestStore;
let endpoint: string;
const BUCKET = 'mr-books';
const env = { ...process.env, ...S3_ENV };

beforeAll(async () => {
  dir = await tempDir();
  store = await startS3(join(dir, 's3'), BUCKET);
  endpoint = store.endpoint;
  await store.upload('books/', inputFiles(BOOKS));
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = await store.client();
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'books/not-a-book.md', Body: 'not matched by *.txt\n' }));
  client.destroy();
}, 60_000);
afterAll(async () => {
  await store?.close();
  await removeDir(dir);
});

describe('inputs in object storage', () => {
  it('counts the words of s3://bucket/prefix/*.txt as of the same files on disk, a large object split by byte ranges', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', `s3://${BUCKET}/books/*.txt`, '--output', join(dir, 'from-s3'), '--s3-endpoint', endpoint,
      '--workers', '2', '--split-mib', '0.25', '--json', '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.stages[0].mapTasks).toBeGreaterThan(inputFiles(BOOKS).length);   // split by ranges, not a task an object
    const local = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'from-disk'), '--quiet']);
    expect(local.code).toBe(0);
    expect(await readParts(join(dir, 'from-s3'))).toEqual(await readParts(join(dir, 'from-disk')));
    expect((await readdir(join(dir, 'from-s3'))).sort()).toContain('_SUCCESS');
  }, 60_000);

  it('reads .gz objects decompressed, and whole objects for a job with input \'file\': as the same files on disk', async () => {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const client = await store.client();
    for (const file of inputFiles(BOOKS)) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `gz/${file.split('/').pop()}.gz`, Body: gzipSync(await readFile(file)) }));
    }
    client.destroy();
    const counted = await runMr(['run', 'jobs/wordcount.ts', '--input', `s3://${BUCKET}/gz/*.gz`, '--output', join(dir, 'from-gz'), '--s3-endpoint', endpoint, '--quiet'], { env });
    expect(counted.code, counted.stderr).toBe(0);
    const local = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'gz-reference'), '--quiet']);
    expect(local.code).toBe(0);
    expect(await readParts(join(dir, 'from-gz'))).toEqual(await readParts(join(dir, 'gz-reference')));

    const grep = ['jobs/grep.ts', '--set', 'pattern=\\bwhale\\b', '--set', 'flags=i', '--quiet'];
    const found = await runMr(['run', ...grep, '--input', `s3://${BUCKET}/books/*.txt`, '--output', join(dir, 'grep-s3'), '--s3-endpoint', endpoint], { env });
    expect(found.code, found.stderr).toBe(0);
    expect((await runMr(['run', ...grep, '--input', BOOKS, '--output', join(dir, 'grep-disk')])).code).toBe(0);
    const parts = await readParts(join(dir, 'grep-s3'));
    expect(parts[0].text).toMatch(/whale/i);
    expect(parts).toEqual(await readParts(join(dir, 'grep-disk')));
  }, 60_000);

  it.each([
    [['--input', `s3://${BUCKET}/books/*.csv`], /--input s3:\/\/mr-books\/books\/\*\.csv matches no object/],
    [['--input', 's3://no-such-bucket/x/*.txt'], /no bucket no-such-bucket at http:\/\/127\.0\.0\.1:\d+/],
  ])('refuses in one line: %j', async (args, message) => {
    const r = await runMr(['run', 'jobs/wordcount.ts', ...args, '--output', join(dir, `bad-${args.length}`), '--s3-endpoint', endpoint], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

const objectsUnder = (prefix: string) => store.objectsUnder(prefix);

describe('outputs in object storage', () => {
  const local = async (reducers = 4) => {
    const name = `reference-${reducers}`;
    const out = join(dir, name);
    if (!(await readdir(dir)).includes(name)) expect((await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--reducers', String(reducers), '--quiet'])).code).toBe(0);
    return new Map(await Promise.all((await readdir(out)).map(async (name) => [name, await readFile(join(out, name), 'utf8')] as [string, string])));
  };

  it('writes one part object per reducer, each whole, then _SUCCESS: the same bytes as on disk', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', `s3://${BUCKET}/out/`, '--s3-endpoint', endpoint, '--workers', '2', '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(await objectsUnder('out/')).toEqual(await local());
  }, 60_000);

  it('a reducer killed in the middle of its upload: its part never shows, the next attempt\'s does, once', async () => {
    const once = join(dir, 'upload-once');
    const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', `s3://${BUCKET}/killed/`, '--s3-endpoint', endpoint, '--workers', '2', '--quiet'],
      { env: { ...env, MR_FAILPOINTS: 'worker.reduce.mid-upload=kill', MR_FAILPOINT_ONCE: once } });
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(dir)).includes('upload-once')).toBe(true);   // the fail point fired
    expect(await objectsUnder('killed/')).toEqual(await local());
  }, 60_000);

  it('a straggling reducer overtaken by its backup: one part per reducer, the backup\'s, and nothing from the straggler', async () => {
    const markers = join(dir, 'straggler-markers');
    await mkdir(markers);
    const r = await runMr(['run', join(FIXTURES, 'slow-reduce-once.ts'), '--input', BOOKS, '--output', `s3://${BUCKET}/speculative/`, '--s3-endpoint', endpoint,
      '--workers', '2', '--set', 'slowReduce=0', '--set', `markerDir=${markers}`, '--json', '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(markers))).toEqual(['stalled']);   // the first attempt at reduce 0 did stall
    const stage = JSON.parse(r.stdout).stages[0];
    expect(stage.backupAttempts).toBeGreaterThanOrEqual(1);
    expect(stage.reduceAttempts).toBeGreaterThan(stage.reduceTasks);
    expect(await objectsUnder('speculative/')).toEqual(await local());
  }, 60_000);

  it('a job that fails leaves no object under its prefix: no part, no _SUCCESS', async () => {
    const r = await runMr(['run', join(FIXTURES, 'throws-in-reduce.ts'), '--input', BOOKS, '--output', `s3://${BUCKET}/failed/`, '--s3-endpoint', endpoint,
      '--max-attempts', '1', '--quiet'], { env });
    expect(r.code).toBe(1);
    expect(await objectsUnder('failed/')).toEqual(new Map());
  }, 60_000);

  it('a job killed after some reducers had their parts uploaded leaves no object under its prefix', async () => {
    const child = startMr(['run', join(FIXTURES, 'slow-reduce.ts'), '--input', BOOKS, '--output', `s3://${BUCKET}/interrupted/`, '--s3-endpoint', endpoint,
      '--workers', '2', '--reducers', '4'], { env });
    const done = finished(child);
    await stderrMatch(child, / reduce [1-3]\/4/);   // a reducer committed: its part uploaded, not yet completed
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(1);
    expect(await objectsUnder('interrupted/')).toEqual(new Map());
  }, 60_000);

  it('runs a chain from object storage into object storage: each stage under stage-k/, the last one also at the top', async () => {
    const r = await runMr(['run', 'jobs/wordcount.ts', 'jobs/topwords.ts', '--input', `s3://${BUCKET}/books/*.txt`, '--output', `s3://${BUCKET}/chain/`,
      '--s3-endpoint', endpoint, '--set', 'n=20', '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    const onDisk = join(dir, 'chain-disk');
    expect((await runMr(['run', 'jobs/wordcount.ts', 'jobs/topwords.ts', '--input', BOOKS, '--output', onDisk, '--set', 'n=20', '--quiet'])).code).toBe(0);
    const objects = await objectsUnder('chain/');
    const top = new Map([...objects].filter(([name]) => !name.includes('/')));
    const files = (await readdir(onDisk)).filter((name) => !name.startsWith('stage-'));
    expect(top).toEqual(new Map(await Promise.all(files.map(async (name) => [name, await readFile(join(onDisk, name), 'utf8')] as [string, string]))));
    expect(objects.has('stage-1/_SUCCESS') && objects.has('stage-2/_SUCCESS')).toBe(true);
  }, 60_000);

  it('refuses an output prefix that holds objects already, in one line', async () => {
    const taken = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', `s3://${BUCKET}/books/`, '--s3-endpoint', endpoint], { env });
    expect(taken.code).toBe(2);
    expect(taken.stderr.trim().split('\n')).toHaveLength(1);
    expect(taken.stderr).toMatch(/output s3:\/\/mr-books\/books is not empty/);
  });
});
