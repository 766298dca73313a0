// The network is not secure: who may talk to the daemons (the shared token, mutual TLS, loopback
// unless one of them is given), that the token is shown nowhere, and that a job is submitted as
// the path of a module the workers load, never as code the master would run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { afterAll, beforeAll, expect } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { inputFiles, referenceWordCount } from '../helpers/reference.ts';
import { BOOKS, FIXTURES, MR, ROOT, removeDir, runMr, startMr, tempDir, type MrResult } from '../helpers/run-mr.ts';
import { until } from '../helpers/until.ts';
import { reliabilityCase } from './harness.ts';

const OPENSSL = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
const NO_OPENSSL = OPENSSL ? undefined : 'the openssl command is not installed';

let dir: string;
let reference: Map<string, string>;
let outputs = 0;
const clusters: Cluster[] = [];
const daemons: ChildProcess[] = [];

beforeAll(async () => {
  dir = await tempDir('mr-security-');
  reference = referenceWordCount(inputFiles(BOOKS));
});
afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  for (const daemon of daemons) if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  await removeDir(dir);
});

const newOutput = () => join(dir, `out-${outputs++}`);

/** Runs the commands a few at a time (each is a process of its own; the machine may have 2 cores). */
async function runAll(commands: string[][], atOnce = 3): Promise<MrResult[]> {
  const results: MrResult[] = [];
  for (let i = 0; i < commands.length; i += atOnce) results.push(...await Promise.all(commands.slice(i, i + atOnce).map((args) => runMr(args))));
  return results;
}

async function cluster(name: string, workers: number, args: string[], workerArgs = args): Promise<Cluster> {
  const started = await startCluster(join(dir, name), workers, args, workerArgs);
  clusters.push(started);
  return started;
}

/** The contract's error shape: one line on stderr, `mr: ...`, no stack trace, the given exit code. */
function expectRefused(r: MrResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mr: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

function wordcount(master: string, extra: string[], out = newOutput()): Promise<MrResult & { out: string }> {
  return runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--master', master, '--quiet', ...extra])
    .then((r) => ({ ...r, out }));
}

// ---- the token ----

reliabilityCase('security', 'the token: none or a wrong one is refused (run, status, worker) with exit 2; the right one runs the job', async (ctx) => {
  const tokenFile = join(dir, 'token-1');
  await writeFile(tokenFile, 'correct horse battery staple\n');
  const c = await cluster('token', 1, ['--token-file', tokenFile]);
  const refused = [[], ['--token', 'wrong horse']].flatMap((wrong) => [
    ['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', newOutput(), '--master', c.address, ...wrong],
    ['status', '--master', c.address, ...wrong],
    ['worker', '--master', c.address, '--work-dir', join(dir, 'token', `intruder-${wrong.length}`), ...wrong],
  ]);
  for (const r of await runAll(refused)) expectRefused(r, 2, /^mr: missing or wrong token/);
  // Nothing was submitted by the refused clients.
  const list = await runMr(['list', '--master', c.address, '--json', '--token-file', tokenFile]);
  expect(list.code, list.stderr).toBe(0);
  expect(JSON.parse(list.stdout).jobs).toEqual([]);
  const ok = await wordcount(c.address, ['--token-file', tokenFile]);
  expect(ok.code, ok.stderr).toBe(0);
  await ctx.expectOutput(ok.out, reference);
  expect(alive(c.master)).toBe(true);
}, { fast: true });

reliabilityCase('security', 'the standard health check answers without the token', async () => {
  const tokenFile = join(dir, 'token-health');
  await writeFile(tokenFile, 'health check secret\n');
  const c = await cluster('health', 0, ['--token-file', tokenFile]);
  expect(await healthOf(c.address)).toBe('SERVING');
}, { fast: true });

function healthOf(address: string): Promise<string> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, { enums: String })) as any;
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => client.check({ service: '' }, { deadline: Date.now() + 5000 }, (error: Error | null, reply: { status: string }) => {
    client.close();
    if (error) reject(error);
    else resolve(reply.status);
  }));
}

reliabilityCase('security', 'binding beyond loopback needs a token (or mutual TLS): master, worker and balancer refuse with exit 2', async () => {
  const refusals = [
    ['master', '--listen', '0.0.0.0:0', '--work-dir', join(dir, 'open-master')],
    ['worker', '--master', '127.0.0.1:1', '--listen-host', '0.0.0.0', '--work-dir', join(dir, 'open-worker')],
    ['balancer', '--listen', '0.0.0.0:0'],
  ];
  for (const r of await runAll(refusals)) expectRefused(r, 2, /reachable from other machines: give a shared secret/);
}, { fast: true });

// ---- the token shows nowhere ----

interface Daemon {
  process: ChildProcess;
  output: () => string;   // stdout and stderr so far
}

/** A daemon whose stdout and stderr the test keeps (startCluster lets them through). */
function daemon(args: string[]): Daemon {
  const child = spawn(process.execPath, [MR, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(child);
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  return { process: child, output: () => output };
}

function lineMatching(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child[stream]! }).on('line', (line) => {
      const match = pattern.exec(line);
      if (match) resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`${child.spawnargs.slice(2, 4).join(' ')} exited with ${code}`)));
  });
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

function stopped(child: ChildProcess): Promise<void> {
  if (!alive(child)) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

for (const how of ['--token', '--token-file'] as const) {
  reliabilityCase('security', `the token given with ${how} shows nowhere: daemon output, status, logs, list, errors, work files`, async (ctx) => {
    const root = join(dir, `leak${how}`);
    const secret = `S3cr3t-${randomBytes(12).toString('hex')}`;
    const wrongSecret = `Wr0ng-${randomBytes(12).toString('hex')}`;
    const tokenFile = join(dir, `leak-token${how}`);   // outside root: every file under root is scanned
    await writeFile(tokenFile, `${secret}\n`);
    const auth = how === '--token' ? ['--token', secret] : ['--token-file', tokenFile];
    const master = daemon(['master', '--listen', '127.0.0.1:0', '--work-dir', join(root, 'master'), ...auth]);
    const address = (await lineMatching(master.process, 'stdout', /^listening (\S+)$/))[1];
    const workers = [0, 1].map((i) => daemon(['worker', '--master', address, '--work-dir', join(root, `worker-${i}`), ...auth]));
    await Promise.all(workers.map((w) => lineMatching(w.process, 'stderr', /"msg":"registered"/)));

    const seen: { what: string; text: string }[] = [];
    const keep = (what: string, r: MrResult) => seen.push({ what, text: r.stdout + r.stderr });
    const ok = await wordcount(address, [...auth, '--json'], join(root, 'out-ok'));
    keep('mr run (succeeds)', ok);
    expect(ok.code, ok.stderr).toBe(0);
    await ctx.expectOutput(ok.out, reference);
    const failing = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', BOOKS, '--output', join(root, 'out-failed'),
      '--master', address, '--max-attempts', '1', '--json', ...auth]);
    keep('mr run (fails)', failing);
    expect(failing.code, failing.stderr).toBe(1);
    const jobs = [ok, failing].map((r) => /^job (\S+)$/m.exec(r.stderr)?.[1]);
    expect(jobs.every((id) => id !== undefined), 'each mr run printed its job id').toBe(true);
    for (const args of [['status', '--json'], ['status'], ['list'], ['list', '--json'], ['ps', '--all'],
      ...jobs.flatMap((id) => [['status', id!, '--json'], ['status', id!], ['logs', id!, '--json'], ['logs', id!]])]) {
      const r = await runMr([...args, '--master', address, ...auth]);
      keep(`mr ${args.join(' ')}`, r);
      expect(r.code, `mr ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const failedLogs = seen.find((s) => s.what === `mr logs ${jobs[1]} --json`)!;
    expect(failedLogs.text).toContain('no Holmes allowed'); // the scan covers the failed job's own messages
    for (const wrong of [[], ['--token', wrongSecret]]) {
      const status = await runMr(['status', '--master', address, ...wrong]);
      keep(`mr status ${wrong.join(' ')}`, status);
      expect(status.code).toBe(2);
      const run = await wordcount(address, wrong, join(root, `out-refused-${wrong.length}`));
      keep(`mr run ${wrong.join(' ')}`, run);
      expect(run.code).toBe(2);
      const worker = await runMr(['worker', '--master', address, '--work-dir', join(root, `refused-worker-${wrong.length}`), ...wrong]);
      keep(`mr worker ${wrong.join(' ')}`, worker);
      expect(worker.code).toBe(2);
    }
    await Promise.all([master, ...workers].map((d) => stopped(d.process))); // logs flushed, journal closed
    seen.push({ what: 'mr master output', text: master.output() });
    workers.forEach((w, i) => seen.push({ what: `mr worker ${i} output`, text: w.output() }));
    expect(master.output()).toMatch(/^listening /);
    expect(workers[0].output()).toContain('"msg":"registered"');
    const files = await filesUnder(root);
    expect(files.some((file) => file.endsWith('journal.jsonl')), 'the journal is among the files scanned').toBe(true);
    for (const file of files) seen.push({ what: file, text: (await readFile(file)).toString('latin1') });
    for (const secretText of [secret, wrongSecret]) {
      const leaks = seen.filter((s) => s.text.includes(secretText)).map((s) => s.what);
      expect(leaks, `places showing ${secretText === secret ? 'the token' : 'a wrong token'}`).toEqual([]);
    }
  }, { fast: false });
}

// ---- mutual TLS ----

interface Pki {
  ca: string;
  node: { cert: string; key: string };      // master and workers: SAN IP:127.0.0.1, DNS:localhost
  client: { cert: string; key: string };    // mr run, status, ...: signed by the same CA
  stranger: { cert: string; key: string };  // signed by another CA
  otherCa: string;
}

let pki: Promise<Pki> | undefined;

/** A CA, certificates it signs for the daemons and a client, and a stranger's from another CA (openssl CLI). */
function certificates(): Promise<Pki> {
  pki ??= (async () => {
    const d = join(dir, 'pki');
    const openssl = (...args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
    };
    spawnSync('mkdir', ['-p', d]);
    const ca = (name: string) => openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
      '-keyout', join(d, `${name}.key`), '-out', join(d, `${name}.crt`));
    const signed = async (name: string, caName: string, san: string) => {
      await writeFile(join(d, `${name}.ext`), `subjectAltName=${san}\n`);
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', join(d, `${name}.key`), '-out', join(d, `${name}.csr`));
      openssl('x509', '-req', '-in', join(d, `${name}.csr`), '-CA', join(d, `${caName}.crt`), '-CAkey', join(d, `${caName}.key`),
        '-CAcreateserial', '-days', '2', '-extfile', join(d, `${name}.ext`), '-out', join(d, `${name}.crt`));
      return { cert: join(d, `${name}.crt`), key: join(d, `${name}.key`) };
    };
    ca('mr-ca');
    ca('other-ca');
    return {
      ca: join(d, 'mr-ca.crt'), otherCa: join(d, 'other-ca.crt'),
      node: await signed('node', 'mr-ca', 'IP:127.0.0.1,DNS:localhost'),
      client: await signed('client', 'mr-ca', 'DNS:mr-client'),
      stranger: await signed('stranger', 'other-ca', 'IP:127.0.0.1,DNS:localhost'),
    };
  })();
  return pki;
}

const tls = (who: { cert: string; key: string }, ca: string) => ['--tls-cert', who.cert, '--tls-key', who.key, '--tls-ca', ca];

reliabilityCase('security', 'mutual TLS (with a token on top): two workers and the clients run a job to the exact output', async (ctx) => {
  const p = await certificates();
  const tokenFile = join(dir, 'token-tls');
  await writeFile(tokenFile, 'tls and a token\n');
  const node = [...tls(p.node, p.ca), '--token-file', tokenFile];
  const c = await cluster('tls', 2, node);
  const client = [...tls(p.client, p.ca), '--token-file', tokenFile];
  const ok = await wordcount(c.address, client);
  expect(ok.code, ok.stderr).toBe(0);
  await ctx.expectOutput(ok.out, reference);
  const id = /^job (\S+)$/m.exec(ok.stderr)![1];
  const status = await runMr(['status', id, '--json', '--master', c.address, ...client]);
  expect(status.code, status.stderr).toBe(0);
  expect(JSON.parse(status.stdout).jobs[0]).toMatchObject({ id, state: 'succeeded', reduceDone: 4 });
  for (const args of [['list', '--json'], ['logs', id, '--json'], ['kill', id]]) {
    const r = await runMr([...args, '--master', c.address, ...client]);
    expect(r.code, `mr ${args.join(' ')}: ${r.stderr}`).toBe(0);
    if (args[0] !== 'logs') continue;
    // Both workers ran maps, so reducers fetched map outputs from the other worker: over TLS too.
    const maps = (JSON.parse(r.stdout).attempts as { task: string; state: string; workerId: string }[])
      .filter((a) => a.task.includes('map') && a.state === 'succeeded');
    expect(new Set(maps.map((a) => a.workerId)).size).toBe(2);
  }
  // TLS does not replace the token where one is set: a certificate without it is refused.
  expectRefused(await runMr(['status', '--master', c.address, ...tls(p.client, p.ca)]), 2, /^mr: missing or wrong token/);
}, { fast: false, skip: NO_OPENSSL });

reliabilityCase('security', 'mutual TLS: no certificate, another CA\'s, or distrust of the server is refused with exit 2; the master keeps serving', async () => {
  const p = await certificates();
  const c = await cluster('tls-refuse', 1, tls(p.node, p.ca));
  const refusals: [string, string[], RegExp][] = [
    ['no certificate', [], /closed the connection before answering: it may require mutual TLS/],
    ['another CA\'s certificate', tls(p.stranger, p.ca), /refused this client's certificate during the TLS handshake/],
    ['a CA that did not sign the server\'s', tls(p.client, p.otherCa), /TLS handshake with master \S+ failed \(self[- ]signed certificate/],
  ];
  const [worker, ...results] = await runAll([
    ['worker', '--master', c.address, '--work-dir', join(dir, 'tls-refuse', 'intruder')],
    ...refusals.flatMap(([, creds]) => [['status', '--master', c.address, ...creds],
      ['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', newOutput(), '--master', c.address, ...creds]]),
  ]);
  expectRefused(worker, 2, /may require mutual TLS/);
  results.forEach((r, i) => expectRefused(r, 2, refusals[Math.floor(i / 2)][2]));
  expect(alive(c.master)).toBe(true);
  const list = await runMr(['list', '--json', '--master', c.address, ...tls(p.client, p.ca)]);
  expect(list.code, list.stderr).toBe(0);
  expect(JSON.parse(list.stdout).jobs, 'no refused client submitted a job').toEqual([]);
}, { fast: true, skip: NO_OPENSSL });

reliabilityCase('security', 'mutual TLS in mr run\'s own cluster, and binding beyond loopback with TLS and no token', async (ctx) => {
  const p = await certificates();
  const out = newOutput();
  const r = await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', out, '--workers', '2', '--quiet', ...tls(p.node, p.ca)]);
  expect(r.code, r.stderr).toBe(0);
  await ctx.expectOutput(out, reference);
  expectRefused(await runMr(['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', newOutput(), '--transport', 'memory', ...tls(p.node, p.ca)]),
    2, /secure the cluster mr run starts with --transport grpc only, not memory/);
  // A client certificate authenticates: the master may bind every address without a token.
  const open = startMr(['master', '--listen', '0.0.0.0:0', '--work-dir', join(dir, 'tls-open'), ...tls(p.node, p.ca)]);
  daemons.push(open);
  const [, port] = await lineMatching(open, 'stdout', /^listening \S+:(\d+)$/);
  const status = await runMr(['status', '--master', `127.0.0.1:${port}`, ...tls(p.client, p.ca)]);
  expect(status.code, status.stderr).toBe(0);
  expectRefused(await runMr(['status', '--master', `127.0.0.1:${port}`]), 2, /may require mutual TLS/);
  await stopped(open);
}, { fast: false, skip: NO_OPENSSL });

reliabilityCase('security', 'TLS options: a missing one, an unreadable file, a file that is not PEM, a key not the certificate\'s are usage errors', async () => {
  const junk = join(dir, 'junk.pem');
  await writeFile(junk, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  const missing = join(dir, 'no-such-file.pem');
  const cases: [string[], RegExp][] = [
    [['--tls-cert', junk], /^mr: TLS needs --tls-cert, --tls-key and --tls-ca together; missing --tls-key and --tls-ca$/],
    [['--tls-cert', junk, '--tls-key', junk], /missing --tls-ca$/],
    [['--tls-cert', missing, '--tls-key', junk, '--tls-ca', junk], /^mr: cannot read --tls-cert \S+no-such-file.pem: ENOENT$/],
    [['--tls-cert', junk, '--tls-key', junk, '--tls-ca', junk], /^mr: --tls-cert \S+junk.pem is not a PEM certificate$/],
  ];
  if (OPENSSL) {
    const p = await certificates();
    cases.push([['--tls-cert', p.node.cert, '--tls-key', junk, '--tls-ca', p.ca], /--tls-key \S+junk.pem is not a PEM private key$/]);
    cases.push([['--tls-cert', p.node.cert, '--tls-key', p.client.key, '--tls-ca', p.ca], /--tls-key \S+client.key is not the key of --tls-cert/]);
    cases.push([['--tls-cert', p.node.cert, '--tls-key', p.node.key, '--tls-ca', p.node.key], /--tls-ca \S+node.key is not a PEM certificate$/]);
  }
  const commands = [
    ['master', '--work-dir', join(dir, 'tls-bad-master')],
    ['worker', '--master', '127.0.0.1:1', '--work-dir', join(dir, 'tls-bad-worker')],
    ['status', '--master', '127.0.0.1:1'],
    ['run', 'jobs/wordcount.ts', '--input', BOOKS, '--output', join(dir, 'tls-bad-out'), '--master', '127.0.0.1:1'],
    ['balancer'],
  ];
  // Every case on one command, every command on one case: the same option code serves them all.
  const runs = cases.flatMap(([flags, pattern], i) => (i === 0 ? commands : [commands[i % commands.length]])
    .map((command) => ({ args: [...command, ...flags], pattern })));
  const results = await runAll(runs.map((run) => run.args));
  results.forEach((r, i) => expectRefused(r, 2, runs[i].pattern));
}, { fast: false });

// ---- a job is a path, not code ----

function rawMaster(address: string): grpc.Client & Record<string, Function> {
  const definition = protoLoader.loadSync(join(ROOT, 'proto', 'mapreduce.proto'), { longs: Number, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition).mr as grpc.GrpcObject;
  return new (pkg.Master as grpc.ServiceClientConstructor)(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
}

function call<T>(client: grpc.Client & Record<string, Function>, method: string, req: object, token: string): Promise<T> {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => client[method](req, metadata, { deadline: Date.now() + 10_000 },
    (error: grpc.ServiceError | null, reply: T) => (error ? reject(error) : resolve(reply))));
}

function spec(jobPath: string, outputDir: string): object {
  return { jobPath, inputFiles: inputFiles(BOOKS), outputDir, reducers: 2, inputMode: 'lines', maxAttempts: 2, speculation: false };
}

reliabilityCase('security', 'a job submitted as source text, a data:/http:/file: URL, a relative path or a non-module file is refused; the master imports none', async (ctx) => {
  const token = 'raw submit secret';
  const c = await cluster('raw', 0, ['--token', token]);
  const client = rawMaster(c.address);
  const marker = join(dir, 'imported-by');
  const code = `import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(marker)}, process.pid + '\\n'); export default { map() {}, reduce() {} };`;
  const rejected: [string, RegExp][] = [
    [code, /job path is not absolute/],
    [`data:text/javascript,${encodeURIComponent(code)}`, /job path is not absolute/],
    ['http://127.0.0.1:1/job.mjs', /job path is not absolute/],
    [`file://${join(ROOT, 'jobs', 'wordcount.ts')}`, /job path is not absolute/],
    ['jobs/wordcount.ts', /job path is not absolute/],
    ['/etc/passwd', /job path does not name a \.ts, \.mts, \.js or \.mjs file/],
  ];
  for (const [jobPath, pattern] of rejected) {
    const error = await call(client, 'SubmitJob', { jobId: `raw-${outputs}`, stages: [spec(jobPath, newOutput())] }, token).then(() => undefined, (e: grpc.ServiceError) => e);
    expect(error?.code, jobPath.slice(0, 40)).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(pattern);
  }
  // A module that records who imports it: accepted by the master, which only hands its path on.
  const job = join(dir, 'records-importer.mjs');
  await writeFile(job, `${code.replace('export default { map() {}, reduce() {} };', '')}\nexport { default } from ${JSON.stringify(join(ROOT, 'jobs', 'wordcount.ts'))};\n`);
  const out = newOutput();
  await call(client, 'SubmitJob', { jobId: 'raw-module', stages: [spec(job, out)] }, token);
  const listed = await call<{ jobs: { jobId: string; state: string }[] }>(client, 'ListJobs', {}, token);
  expect(listed.jobs.map((j) => j.jobId), 'only the module path was accepted').toEqual(['raw-module']);
  expect(existsSync(marker), 'nothing imported the module before a worker came').toBe(false);
  c.addWorker();
  const done = await until('the job to end', async () => {
    const status = await call<{ state: string }>(client, 'GetJobStatus', { jobId: 'raw-module' }, token);
    return ['succeeded', 'failed', 'killed'].includes(status.state) ? status : undefined;
  }, 60_000);
  expect(done.state).toBe('succeeded');
  await ctx.expectOutput(out, reference);
  const importers = (await readFile(marker, 'utf8')).trim().split('\n').map(Number);
  expect(importers.length).toBeGreaterThan(0);
  expect(importers, 'the master process never imported the job').not.toContain(c.master.pid);
  client.close();
}, { fast: true });

reliabilityCase('security', 'a job path that does not exist on the workers fails the job with a clear error; the master keeps serving', async (ctx) => {
  const token = 'missing module secret';
  const c = await cluster('raw-missing', 1, ['--token', token]);
  const client = rawMaster(c.address);
  const ghost = join(dir, `no-such-dir-${randomBytes(4).toString('hex')}`, 'job.ts');
  await call(client, 'SubmitJob', { jobId: 'raw-ghost', stages: [spec(ghost, newOutput())] }, token);
  const status = await until('the job to fail', async () => {
    const s = await call<{ state: string; error: string }>(client, 'GetJobStatus', { jobId: 'raw-ghost' }, token);
    return ['succeeded', 'failed', 'killed'].includes(s.state) ? s : undefined;
  }, 60_000);
  expect(status.state).toBe('failed');
  expect(status.error).toContain(`job module ${ghost} not found`);
  const shown = await runMr(['status', 'raw-ghost', '--master', c.address, '--token', token]);
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stdout).toMatch(/failed/);
  client.close();
  expect(alive(c.master)).toBe(true);
  const ok = await wordcount(c.address, ['--token', token]);
  expect(ok.code, ok.stderr).toBe(0);
  await ctx.expectOutput(ok.out, reference);
}, { fast: true });
