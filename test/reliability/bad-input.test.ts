// Bad input: broken job modules, records the output format cannot hold, odd inputs and outputs,
// files that change or cannot be read, and junk sent straight to the master's port. Each gets a
// one-line `mr: ...` error and the contract's exit code (2 usage or bad input, 1 job failed),
// never a stack trace, a hang, or part files in --output; a master keeps serving after junk.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { IDLE_CONNECTION_MS } from '../../src/wires/grpc/grpc-wire.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { referenceWordCount } from '../helpers/reference.ts';
import { BOOKS, FIXTURES, MR, ROOT, finished, removeDir, runMr, tempDir, type MrResult } from '../helpers/run-mr.ts';
import { reliabilityCase } from './harness.ts';

const NOBODY = 65534;
const BOOK = join(ROOT, 'datasets', 'gutenberg', 'pg-metamorphosis.txt');

let dir: string;
beforeAll(async () => {
  dir = await tempDir('mr-bad-input-');
  await chmod(dir, 0o755); // the cases run as nobody read their jobs from here
});
afterAll(() => removeDir(dir));

/** The last line of stderr is the error, `mr: ...`, and nothing on stderr looks like a stack. */
function expectOneLineError(r: MrResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const { error, attemptLines } = splitFailedAttempt(r.stderr.trim().split('\n'));
  expect(error.at(-1)).toMatch(/^mr: /);
  expect(error.at(-1)).toMatch(pattern);
  expect(error.join('\n')).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toMatch(/internal error/);
  // A failed job's error line is followed by what its failing attempt printed, and where to see all.
  if (attemptLines.length) {
    expect(attemptLines[0]).toMatch(/^mr: (the last \d+ line\(s\) that )?attempt \S+ \(\S+ on \S+\) printed/);
    expect(attemptLines.at(-1)).toMatch(/^mr: every attempt's log: mr logs job-\S+$/);
  }
}

/** The lines before the block naming the failed attempt, and that block. */
function splitFailedAttempt(lines: string[]): { error: string[]; attemptLines: string[] } {
  const at = lines.findIndex((line) => /^mr: (the last \d+ line\(s\) that )?attempt \S+ \(/.test(line));
  return at < 0 ? { error: lines, attemptLines: [] } : { error: lines.slice(0, at), attemptLines: lines.slice(at) };
}

/** A failed job leaves no part file, no temporary part file and no _SUCCESS in its output. */
async function expectNoOutput(out: string): Promise<void> {
  const names = await readdir(out).catch(() => [] as string[]);
  expect(names.filter((name) => name.startsWith('part-r-') || name.startsWith('.part-r-') || name === '_SUCCESS')).toEqual([]);
}

/** Writes a job module (plain JavaScript, so no transform) and returns its path. */
async function job(name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

const WORDS = `for (const w of line.match(/\\p{L}+/gu) ?? []) emit(w.toLowerCase(), 1);`;

// ---- Could the machine run the cases that need root's powers? (skipped, with the reason, if not)

function nobodyProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root, to run mr as user nobody (root reads any file)';
  const probe = spawnSync(process.execPath, [MR, '--help'], { uid: NOBODY, gid: NOBODY, cwd: ROOT, encoding: 'utf8' });
  if (probe.status !== 0) {
    const why = probe.error?.message ?? (/Cannot find module|EACCES/.test(probe.stderr) ? 'this checkout is not readable by others' : `exit ${probe.status}`);
    return `user nobody cannot run mr from this checkout (${why})`;
  }
  return undefined;
}

function roMountProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root, to mount a read-only tmpfs';
  const at = join(ROOT, '.cache', `ro-probe-${process.pid}`);
  spawnSync('mkdir', ['-p', at]);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', at], { encoding: 'utf8' });
  if (mount.status === 0) spawnSync('umount', [at]);
  spawnSync('rmdir', [at]);
  return mount.status === 0 ? undefined : `cannot mount a read-only tmpfs here (${(mount.stderr || mount.error?.message || '').trim()})`;
}

const AS_NOBODY = nobodyProblem();
const RO_MOUNT = roMountProblem();

/** mr as user nobody, on files the test made theirs. */
function runAsNobody(args: string[]): Promise<MrResult> {
  const child = spawn(process.execPath, [MR, ...args], {
    cwd: ROOT, uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: dir, TMPDIR: '/tmp' },
  });
  return finished(child);
}

// ---- Moved from the end-to-end suite: usage errors exit 2 and submit nothing

reliabilityCase('bad input', 'a job file that does not exist, or does not parse, or has no map and reduce: exit 2', async () => {
  const [missing, broken, nojob] = await Promise.all([
    runMr(['run', join(dir, 'missing.ts'), '--input', BOOK, '--output', join(dir, 'u1')]),
    runMr(['run', await job('broken.ts', 'export default { map(line, emit) {\n'), '--input', BOOK, '--output', join(dir, 'u2')]),
    runMr(['run', await job('nojob.mjs', 'export default { hello: 1 };\n'), '--input', BOOK, '--output', join(dir, 'u3')]),
  ]);
  expectOneLineError(missing, 2, /^mr: job module .*missing\.ts not found/);
  expectOneLineError(broken, 2, /^mr: job module .*broken\.ts does not load/);
  expectOneLineError(nojob, 2, /no map and no reduce function/);
  for (const out of ['u1', 'u2', 'u3']) expect(existsSync(join(dir, out))).toBe(false);
}, { fast: true });

reliabilityCase('bad input', 'a glob that matches nothing, bad numbers, unknown options: exit 2', async () => {
  const nothing = runMr(['run', 'jobs/wordcount.ts', '--input', join(dir, 'nothing-*.txt'), '--output', join(dir, 'o4')]);
  const bad = [['--reducers', '0'], ['--workers', 'many'], ['--bogus'], ['--transport', 'carrier-pigeon']];
  const runs = await Promise.all(bad.map((args) => runMr(['run', 'jobs/wordcount.ts', '--input', BOOK, '--output', join(dir, 'o5'), ...args])));
  expectOneLineError(await nothing, 2, /matches no file/);
  runs.forEach((r, i) => expectOneLineError(r, 2, new RegExp(bad[i][0].replace(/^--/, ''))));
}, { fast: true });

reliabilityCase('bad input', 'an output directory that is not empty: exit 2, and it is left untouched', async () => {
  const out = join(dir, 'taken');
  await mkdir(out);
  await writeFile(join(out, 'precious.txt'), 'keep me');
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOK, '--output', out]);
  expectOneLineError(r, 2, /is not empty/);
  expect(await readdir(out)).toEqual(['precious.txt']);
  expect(await readFile(join(out, 'precious.txt'), 'utf8')).toBe('keep me');
}, { fast: true });

reliabilityCase('bad input', 'the memory backend cannot submit to a master nor run daemons: exit 2', async () => {
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOK, '--output', join(dir, 'o6'), '--transport', 'memory', '--master', '127.0.0.1:1']);
  expectOneLineError(r, 2, /cannot submit to --master/);
  const w = await runMr(['worker', '--master', '127.0.0.1:1', '--work-dir', join(dir, 'w'), '--transport', 'memory']);
  expectOneLineError(w, 2, /has no daemons/);
}, { fast: true });

reliabilityCase('bad input', 'a map that throws: exit 1 naming the error and the input file, no output', async () => {
  const out = join(dir, 'failed');
  const r = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', out, '--workers', '2', '--quiet']);
  expectOneLineError(r, 1, /^mr: job failed: .*failed 4 times.*pg-sherlock_holmes\.txt.*no Holmes allowed/);
  await expectNoOutput(out);
}, { fast: true });

// ---- Awkward input that is not an error

reliabilityCase('bad input', 'binary and empty files: refused (exit 2) unless --binary-ok, then the word count of what they hold', async (ctx) => {
  const binary = join(dir, 'noise.bin');
  const empty = join(dir, 'empty.txt');
  const bytes = Buffer.alloc(200_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  await writeFile(binary, bytes);
  await writeFile(empty, '');
  const out = join(dir, 'binary-out');
  const refused = await runMr(['run', 'jobs/wordcount.ts', '--input', binary, '--input', empty, '--output', out, '--reducers', '3', '--quiet']);
  expectOneLineError(refused, 2, /^mr: input file \S+noise\.bin looks binary/);
  expect(existsSync(out)).toBe(false);
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', binary, '--input', empty, '--output', out, '--reducers', '3', '--quiet', '--binary-ok']);
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, referenceWordCount([binary, empty]));
}, { fast: true });

reliabilityCase('bad input', 'keys beyond U+FFFF sort in UTF-8 byte order, not JavaScript string order', async (ctx) => {
  const input = join(dir, 'astral.txt');
  await writeFile(input, 'ＡＢＣ 𝒜𝒷𝒸 abc ﬁx 𝒜𝒷𝒸 zebra 日本\n');
  const out = join(dir, 'astral-out');
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', input, '--output', out, '--reducers', '1', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, referenceWordCount([input])); // also checks each file is in byte order
  const keys = (await readFile(join(out, 'part-r-00000'), 'utf8')).trim().split('\n').map((line) => line.split('\t')[0]);
  expect(keys.indexOf('ａｂｃ')).toBeLessThan(keys.indexOf('𝒜𝒷𝒸')); // U+FF41 (EF BD 81) before U+1D49C (F0 9D 92 9C)
}, { fast: true });

reliabilityCase('bad input', 'only empty input: one empty file per reducer', async (ctx) => {
  const empty = join(dir, 'only-empty.txt');
  await writeFile(empty, '');
  const out = join(dir, 'empty-out');
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', empty, '--output', out, '--reducers', '2', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  expect((await readdir(out)).sort()).toEqual(['_SUCCESS', 'part-r-00000', 'part-r-00001']);
  await ctx.expectOutput(out, new Map());
}, { fast: true });

// ---- 1. Malformed job modules

reliabilityCase('bad input', 'no default export, map not a function, a module that throws at import: exit 2, nothing submitted', async () => {
  const cases: [string, string, RegExp][] = [
    ['no-default.mjs', `export function map(line, emit) { emit(line, 1); }\nexport function reduce(k, v) { return v.length; }\n`,
      /no-default\.mjs is not a job: its default export is not a job object/],
    ['map-not-function.mjs', `export default { map: 'words', reduce: (k, v) => v.length };\n`, /map-not-function\.mjs is not a job: its default export has no map function/],
    ['throws-at-import.mjs', `throw new Error('cannot start: no licence key');\nexport default { map() {}, reduce() {} };\n`,
      /throws-at-import\.mjs does not load: cannot start: no licence key/],
  ];
  await Promise.all(cases.map(async ([name, source, pattern]) => {
    const out = join(dir, `m-${name}`);
    const r = await runMr(['run', await job(name, source), '--input', BOOK, '--output', out, '--quiet']);
    expectOneLineError(r, 2, pattern);
    expect(existsSync(out), `${name}: nothing submitted, no output directory`).toBe(false);
  }));
}, { fast: true });

reliabilityCase('bad input', 'a module that loads in mr run but throws at import in the workers: exit 1 naming the module, no output', async () => {
  // Its first import (mr run's check) leaves a marker; every later one (a worker's) throws.
  const marker = join(dir, 'imported-once.marker');
  const path = await job('throws-in-workers.mjs', `import { existsSync, writeFileSync } from 'node:fs';
if (existsSync(${JSON.stringify(marker)})) throw new Error('no database on this host');
writeFileSync(${JSON.stringify(marker)}, '');
export default { map(line, emit) { ${WORDS} }, reduce: (word, counts) => counts.length };\n`);
  const out = join(dir, 'throws-in-workers-out');
  const r = await runMr(['run', path, '--input', BOOK, '--output', out, '--workers', '1', '--quiet']);
  expectOneLineError(r, 1, /^mr: job failed: stage 1 map task 0 failed 4 times; .*job module .*throws-in-workers\.mjs does not load: no database on this host/);
  await expectNoOutput(out);
});

reliabilityCase('bad input', 'a reduce that returns undefined fails the job naming the key: exit 1, no output', async () => {
  const path = await job('reduce-undefined.mjs', `export default {
  map(line, emit) { ${WORDS} },
  reduce(word, counts) { if (word !== 'gregor') return counts.length; },
};\n`);
  const out = join(dir, 'reduce-undefined-out');
  const r = await runMr(['run', path, '--input', BOOK, '--output', out, '--workers', '2', '--quiet']);
  expectOneLineError(r, 1, /^mr: job failed: stage 1 reduce task \d+ failed 4 times; .*output value for key "gregor" is undefined; reduce must return a value/);
  await expectNoOutput(out);
});

/** A job whose map emits, for the word "gregor", the value the option names. */
const UNSERIALISABLE = `const values = {
  bigint: () => 1n,
  circular: () => { const o = { n: 1 }; o.self = o; return o; },
  function: () => () => 1,
  undefined: () => undefined,
};
export default {
  map(line, emit, ctx) {
    for (const w of line.match(/\\p{L}+/gu) ?? []) {
      const word = w.toLowerCase();
      emit(word, word === 'gregor' ? values[ctx.options.kind]() : 1);
    }
  },
  reduce: (word, counts) => counts.length,
};\n`;

async function expectUnserialisable(kind: string, pattern: RegExp): Promise<void> {
  const out = join(dir, `unserialisable-${kind}`);
  const r = await runMr(['run', await job('unserialisable.mjs', UNSERIALISABLE), '--input', BOOK, '--output', out, '--set', `kind=${kind}`, '--workers', '1', '--quiet']);
  expectOneLineError(r, 1, new RegExp(`^mr: job failed: stage 1 map task 0 failed 4 times; .*map on input .*pg-metamorphosis\\.txt: the value emitted for key "gregor" ${pattern.source}`));
  await expectNoOutput(out);
}

reliabilityCase('bad input', 'map emits a BigInt: the attempt fails naming the key, the job exits 1', async () => {
  await expectUnserialisable('bigint', /is not JSON-serialisable: Do not know how to serialize a BigInt/);
}, { fast: true });

reliabilityCase('bad input', 'map emits a circular object, a function or undefined: the attempt fails naming the key, the job exits 1', async () => {
  await expectUnserialisable('circular', /is not JSON-serialisable: Converting circular structure to JSON/);
  await expectUnserialisable('function', /is a function, which JSON cannot carry/);
  await expectUnserialisable('undefined', /is undefined, which JSON cannot carry/);
});

// ---- 2. Keys with tabs or newlines, values with newlines

/** Word count, but the word "gregor" gets the key or value the option names; reduce writes with ctx.emit when asked. */
const BREAKS_FORMAT = `const odd = { 'key-tab': ['gre\\tgor', 1], 'key-newline': ['gre\\ngor', 1], 'value-newline': ['gregor', 'two\\nlines'],
  'value-tab': ['gregor', 'a\\tb'] };
export default {
  map(line, emit, ctx) {
    for (const w of line.match(/\\p{L}+/gu) ?? []) {
      const word = w.toLowerCase();
      if (word === 'gregor' && !ctx.options.rekey) emit(...odd[ctx.options.kind]);
      else if (word === 'gregor') emit('gre\\tgor', 1);
      else emit(word, 1);
    }
  },
  reduce(word, values, ctx) {
    if (ctx.options.rekey) { ctx.emit(word.replace('\\t', ' '), values.length); return; }
    return typeof values[0] === 'string' ? values[0] : values.length;
  },
};\n`;

function runBreaking(name: string, sets: string[]): Promise<MrResult> {
  return job('breaks-format.mjs', BREAKS_FORMAT).then((path) =>
    runMr(['run', path, '--input', BOOK, '--output', join(dir, name), '--reducers', '1', '--workers', '1', '--quiet', ...sets.flatMap((s) => ['--set', s])]));
}

reliabilityCase('bad input', 'a key with a tab fails the job naming the key (output lines are key<TAB>value): exit 1, no output', async () => {
  const r = await runBreaking('key-tab', ['kind=key-tab']);
  expectOneLineError(r, 1, /reduce output: the output key "gre\\tgor" holds a tab; output lines are key<TAB>value/);
  await expectNoOutput(join(dir, 'key-tab'));
}, { fast: true });

reliabilityCase('bad input', 'a key with a newline, a value with a newline fail naming the key; a tab in a value, or a map key rewritten by reduce, is fine', async (ctx) => {
  const keyNewline = await runBreaking('key-newline', ['kind=key-newline']);
  expectOneLineError(keyNewline, 1, /the output key "gre\\ngor" holds a newline/);
  await expectNoOutput(join(dir, 'key-newline'));
  const valueNewline = await runBreaking('value-newline', ['kind=value-newline']);
  expectOneLineError(valueNewline, 1, /the output value for key "gregor" holds a newline/);
  await expectNoOutput(join(dir, 'value-newline'));

  const counts = referenceWordCount([BOOK]);
  const valueTab = await runBreaking('value-tab', ['kind=value-tab']);
  expect(valueTab.code, valueTab.stderr).toBe(0);
  await ctx.expectOutput(join(dir, 'value-tab'), new Map([...counts, ['gregor', 'a\tb']]));
  // The check is on what is written: a map key with a tab that reduce rewrites with ctx.emit is fine.
  const rekeyed = await runBreaking('rekeyed', ['kind=key-tab', 'rekey=1']);
  expect(rekeyed.code, rekeyed.stderr).toBe(0);
  const expected = new Map(counts);
  expected.set('gre gor', counts.get('gregor')!);
  expected.delete('gregor');
  await ctx.expectOutput(join(dir, 'rekeyed'), expected);
});

// ---- 3. Globs that match directories

reliabilityCase('bad input', 'a glob that matches directories skips them; a directory, or a glob of only directories, is exit 2', async (ctx) => {
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'sub.txt'), { recursive: true }); // a directory whose name the glob matches
  await mkdir(join(tree, 'only-dirs', 'a'), { recursive: true });
  await writeFile(join(tree, 'sub.txt', 'inside.txt'), 'not read at all\n');
  await writeFile(join(tree, 'one.txt'), 'the cat sat\non the mat\n');
  await writeFile(join(tree, 'two.txt'), 'the dog\n');
  const out = join(dir, 'tree-out');
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', join(tree, '*'), '--output', out, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, referenceWordCount([join(tree, 'one.txt'), join(tree, 'two.txt')]));

  const [plain, onlyDirs] = await Promise.all([
    runMr(['run', 'jobs/wordcount.ts', '--input', tree, '--output', join(dir, 'tree-out-2'), '--quiet']),
    runMr(['run', 'jobs/wordcount.ts', '--input', join(tree, 'only-dirs', '*'), '--output', join(dir, 'tree-out-3'), '--quiet']),
  ]);
  expectOneLineError(plain, 2, new RegExp(`--input ${tree} is a directory; give a glob of its files, like '${tree}/\\*'`));
  expectOneLineError(onlyDirs, 2, /only-dirs\/\* matches no file/);
}, { fast: true });

// ---- 4. Unreadable files (as user nobody: root reads anything)

/** A directory of input files owned by nobody; the ones named in locked are not readable. */
async function nobodyInputs(name: string, files: Record<string, string>, locked: string[] = []): Promise<string> {
  const at = join(dir, name);
  await mkdir(at);
  for (const [file, text] of Object.entries(files)) await writeFile(join(at, file), text);
  for (const path of [at, ...Object.keys(files).map((file) => join(at, file))]) await chown(path, NOBODY, NOBODY);
  for (const file of locked) await chmod(join(at, file), 0o000);
  return at;
}

reliabilityCase('bad input', 'an input file mr run cannot read: exit 2 naming it, before anything is submitted', async () => {
  const at = await nobodyInputs('unreadable', { 'a.txt': 'alpha beta\n', 'b.txt': 'gamma\n', 'c.txt': 'delta\n' }, ['b.txt']);
  const out = join(at, 'out');
  const r = await runAsNobody(['run', 'jobs/wordcount.ts', '--input', join(at, '*.txt'), '--output', out, '--quiet']);
  expectOneLineError(r, 2, new RegExp(`^mr: cannot read input file ${join(at, 'b.txt')} \\(EACCES\\); check its permissions$`));
  expect(existsSync(out), 'nothing submitted, no output directory').toBe(false);
}, { fast: true, skip: AS_NOBODY });

reliabilityCase('bad input', 'an input file that becomes unreadable after submission: the job fails (exit 1) naming it, no output', async () => {
  const at = await nobodyInputs('locked-later', { 'a.txt': 'alpha beta\n', 'b.txt': 'gamma\n' });
  const path = await job('locks-b.mjs', `import { chmodSync, existsSync, writeFileSync } from 'node:fs';
export default {
  map(line, emit, ctx) {
    if (!existsSync(ctx.options.marker)) { writeFileSync(ctx.options.marker, ''); chmodSync(ctx.options.victim, 0); }
    ${WORDS}
  },
  reduce: (word, counts) => counts.length,
};\n`);
  await chmod(path, 0o644);
  const out = join(at, 'out');
  // One worker, no backups: map task 0 (a.txt) runs first and locks b.txt, which map task 1 reads.
  const r = await runAsNobody(['run', path, '--input', join(at, '*.txt'), '--output', out, '--workers', '1', '--no-speculation', '--quiet',
    '--set', `marker=${join(at, 'locked')}`, '--set', `victim=${join(at, 'b.txt')}`]);
  expectOneLineError(r, 1, new RegExp(`^mr: job failed: stage 1 map task 1 failed 4 times; .*cannot read input file ${join(at, 'b.txt')}: EACCES`));
  await expectNoOutput(out);
}, { skip: AS_NOBODY });

// ---- 5. A file that changes while the job reads it

/** Word count whose first map call changes its own input file (once: a marker file says it did). */
const CHANGES_INPUT = `import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
export default {
  map(line, emit, ctx) {
    const { marker, how } = ctx.options;
    if (!existsSync(marker)) {
      writeFileSync(marker, '');
      if (how === 'truncate') truncateSync(ctx.file, 100);
      if (how === 'append') appendFileSync(ctx.file, 'appended words appear here\\n');
      if (how === 'rewrite') writeFileSync(ctx.file, readFileSync(ctx.file, 'utf8').toUpperCase()); // same size, new bytes
    }
    ${WORDS}
  },
  reduce: (word, counts) => counts.length,
};\n`;

async function runChanging(how: string, preMarked = false): Promise<{ r: MrResult; input: string; out: string; original: string }> {
  const input = join(dir, `changing-${how}.txt`);
  const original = await readFile(BOOK, 'utf8');
  await writeFile(input, original);
  const marker = join(dir, `changing-${how}.marker`);
  if (preMarked) await writeFile(marker, '');
  const out = join(dir, `changing-${how}-out`);
  const r = await runMr(['run', await job('changes-input.mjs', CHANGES_INPUT), '--input', input, '--output', out, '--workers', '1', '--quiet',
    '--set', `marker=${marker}`, '--set', `how=${how}`]);
  return { r, input, out, original };
}

function changedPattern(input: string): RegExp {
  return new RegExp(`^mr: job failed: stage 1 map task 0 failed 4 times; .*input file ${input} changed after the job was submitted`);
}

reliabilityCase('bad input', 'an input file truncated while its map runs: the job fails (exit 1) naming it, no output', async () => {
  const { r, input, out } = await runChanging('truncate');
  expectOneLineError(r, 1, changedPattern(input));
  expect(r.stderr).toMatch(/139054 bytes then, 100 now/);
  await expectNoOutput(out);
}, { fast: true });

reliabilityCase('bad input', 'an input file appended to or rewritten (same size) during its map: exit 1 naming it; unchanged, the same job is exact', async (ctx) => {
  for (const how of ['append', 'rewrite']) {
    const { r, input, out } = await runChanging(how);
    expectOneLineError(r, 1, changedPattern(input));
    await expectNoOutput(out);
  }
  const control = await runChanging('none', true);
  expect(control.r.code, control.r.stderr).toBe(0);
  await ctx.expectOutput(control.out, referenceWordCount([control.input]));
});

// ---- 6. An output directory on a read-only file system

reliabilityCase('bad input', 'an output directory on a read-only file system: exit 2 before anything runs', async () => {
  const ro = join(dir, 'read-only');
  await mkdir(ro);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro], { encoding: 'utf8' });
  expect(mount.status, mount.stderr).toBe(0);
  try {
    const inside = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOK, '--output', join(ro, 'out'), '--quiet']);
    expectOneLineError(inside, 2, new RegExp(`^mr: cannot claim output directory ${join(ro, 'out')}: ${ro} is not writable \\(EROFS: read-only file system\\)`));
    const itself = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOK, '--output', ro, '--quiet']);
    expectOneLineError(itself, 2, new RegExp(`^mr: cannot write to output directory ${ro} \\(EROFS: read-only file system\\)`));
    expect(await readdir(ro)).toEqual([]);
  } finally {
    spawnSync('umount', [ro]);
  }
}, { fast: true, skip: RO_MOUNT });

// ---- 7 and 8. Junk, oversized and unknown calls, and silent clients, straight to a master's port

interface GrpcAnswer { status?: number; message?: string; error?: string }

/** One gRPC call by hand over HTTP/2: a message frame whose body is given (and its length prefix, if not the body's). */
function rawCall(address: string, path: string, body: Buffer, declaredBytes = body.length): Promise<GrpcAnswer> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`, { maxSessionMemory: 256 }); // MB: the oversized message is buffered here
    const answer: GrpcAnswer = {};
    const take = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined) answer.status = Number(headers['grpc-status']);
      if (headers['grpc-message'] !== undefined) answer.message = decodeURIComponent(String(headers['grpc-message']));
    };
    session.on('error', (error) => (answer.error = error.message));
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('error', (error) => (answer.error ??= error.message));
    stream.on('close', () => {
      session.close();
      resolve(answer);
    });
    stream.resume();
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(declaredBytes, 1);
    stream.end(Buffer.concat([prefix, body]));
  });
}

const GRPC = { INVALID_ARGUMENT: 3, INTERNAL: 13, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12 };

/** Opens a raw TCP connection; resolves `closed` when the server hangs up. */
function rawSocket(address: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('error', () => {}); // a reset is one way for the server to hang up
    socket.resume();
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** The master still answers mr status, and runs a word count to the exact reference. */
async function expectMasterServes(cluster: Cluster, ctx: Parameters<Parameters<typeof reliabilityCase>[2]>[0], name: string): Promise<void> {
  const status = await runMr(['status', '--master', cluster.address]);
  expect(status.code, status.stderr).toBe(0);
  const out = join(dir, name);
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOK, '--output', out, '--master', cluster.address, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, referenceWordCount([BOOK]));
}

reliabilityCase('bad input', 'garbage bytes, a malformed protobuf, an oversized message and unknown methods sent to the master are refused; it still serves', async (ctx) => {
  const cluster = await startCluster(join(dir, 'rpc-cluster'), 1);
  try {
    // (a) not HTTP/2 at all: the master hangs up on it
    const { socket, closed } = await rawSocket(cluster.address);
    socket.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) & 0xff))]));
    await closed;
    // (b) a well-formed gRPC call whose body is not a protobuf message: field 100 of wire type 7, which does not exist
    const junk = await rawCall(cluster.address, '/mr.Master/SubmitJob', Buffer.from([0xa7, 0x06, 0x01, 0x02, 0x03]));
    expect(junk.status, JSON.stringify(junk)).toBe(GRPC.INTERNAL);
    // ... and junk the protobuf decoder takes (a string cut short): the master's own checks refuse what it decodes to
    const lenient = await rawCall(cluster.address, '/mr.Master/SubmitJob', Buffer.from([0x0a, 0x7f, 0x01]));
    expect(lenient.status, JSON.stringify(lenient)).toBe(GRPC.INVALID_ARGUMENT);
    expect(lenient.message).toMatch(/a job needs at least one stage/);
    // (c) larger than the master takes (16 MiB, grpc.max_receive_message_length)
    const huge = await rawCall(cluster.address, '/mr.Master/SubmitJob', Buffer.alloc((16 << 20) + 1024, 0x20));
    expect(huge.status, JSON.stringify(huge)).toBe(GRPC.RESOURCE_EXHAUSTED);
    // (d) methods and services the master does not have
    for (const path of ['/mr.Master/DropAllTables', '/no.Such/Service', '/mr.Worker/FetchPartition']) {
      const unknown = await rawCall(cluster.address, path, Buffer.alloc(0));
      expect(unknown.status, `${path}: ${JSON.stringify(unknown)}`).toBe(GRPC.UNIMPLEMENTED);
    }
    await expectMasterServes(cluster, ctx, 'after-junk');
  } finally {
    await cluster.stop();
  }
});

reliabilityCase('bad input', 'clients that connect and never send do not hold the master up: a job runs to the exact output meanwhile', async (ctx) => {
  const cluster = await startCluster(join(dir, 'idle-cluster'), 1);
  const sockets = await Promise.all(Array.from({ length: 8 }, () => rawSocket(cluster.address)));
  try {
    await expectMasterServes(cluster, ctx, 'beside-idle');
  } finally {
    for (const { socket } of sockets) socket.destroy();
    await cluster.stop();
  }
});

reliabilityCase('bad input', `the master closes connections that never send a byte (after ${IDLE_CONNECTION_MS / 1000} s idle)`, async (ctx) => {
  const cluster = await startCluster(join(dir, 'idle-close-cluster'), 1);
  try {
    const sockets = await Promise.all(Array.from({ length: 4 }, () => rawSocket(cluster.address)));
    await Promise.all(sockets.map(({ closed }) => closed)); // the test's timeout is the bound
    await expectMasterServes(cluster, ctx, 'after-idle');
  } finally {
    await cluster.stop();
  }
}, { timeoutMs: IDLE_CONNECTION_MS + 120_000 });
