// Uber mode through the real CLI: a tiny job of built-in operators with no option that asks for worker processes runs in
// mr run itself (--json says uber and names no other process), with the same output bytes,
// _SUCCESS, history and logs as a run on worker processes; --no-uber, MR_NO_UBER=1, --workers
// --transport, an input past the limits (bytes or files) and a job of its own functions each give worker processes.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UBER_MAX_INPUT_BYTES, UBER_MAX_INPUT_FILES, looksUber } from '../../bin/uber-input.mjs';
import { FIXTURES, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let outputs = 0;

beforeAll(async () => {
  dir = await tempDir();
  await writeFile(join(dir, 'a.txt'), 'PRINT alpha beta\nbeta Gamma\n');
  await writeFile(join(dir, 'b.txt'), 'gamma delta ünïcode\n');
  await writeFile(join(dir, 'big.txt'), 'word another\n'.repeat(Math.ceil((UBER_MAX_INPUT_BYTES + 1) / 13)));
  await mkdir(join(dir, 'many'));
  for (let i = 0; i <= UBER_MAX_INPUT_FILES; i++) await writeFile(join(dir, 'many', `f${i}.txt`), `word ${i}\n`);
});

afterAll(async () => {
  await removeDir(dir);
});

interface RunJson {
  ok: boolean;
  jobId: string;
  uber: boolean;
  processes: { role: string; pid: number }[];
  backend: { name: string; nodes: number };
}

/** mr run --json of job over inputs, with its history in dir/home; the result, the output dir and its files' bytes. */
async function run(job: string, inputs: string[], extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const out = join(dir, `out-${outputs++}`);
  const r = await runMr(['run', job, ...inputs.flatMap((input) => ['--input', input]), '--output', out, '--json', '--quiet', ...extra],
    { env: { MR_HOME: join(dir, 'home'), ...env } });
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout) as RunJson;
  const names = (await readdir(out)).sort();
  const bytes = await Promise.all(names.map(async (name) => [name, await readFile(join(out, name), 'utf8')]));
  return { json, names, bytes, stderr: r.stderr };
}

/** The pids of the processes the job ran in besides mr run's own (the master's). */
const otherProcesses = (json: RunJson): number[] => {
  const master = json.processes.find((p) => p.role === 'master')!.pid;
  return json.processes.map((p) => p.pid).filter((pid) => pid !== master);
};

describe('uber mode', () => {
  it('runs a tiny job in mr run itself, with the same output, _SUCCESS, history and logs as on worker processes', async () => {
    const inputs = [join(dir, 'a.txt'), join(dir, '[ab].txt')];
    const uber = await run('jobs/wordcount.ts', inputs);
    expect(uber.json.uber).toBe(true);
    expect(otherProcesses(uber.json)).toEqual([]);
    expect(uber.json.processes.map((p) => p.role).sort()).toEqual(['master', 'worker']);
    expect(uber.json.backend).toMatchObject({ name: 'grpc', nodes: 1 });
    expect(uber.names).toEqual(['_SUCCESS', 'part-r-00000', 'part-r-00001', 'part-r-00002', 'part-r-00003']);

    const processes = await run('jobs/wordcount.ts', inputs, ['--no-uber']);
    expect(processes.json.uber).toBe(false);
    expect(otherProcesses(processes.json).length).toBeGreaterThan(0);
    expect(uber.bytes).toEqual(processes.bytes);

    // The uber run's attempts and state are in the history, as any run's.
    const logs = await runMr(['logs', uber.json.jobId, '--json'], { env: { MR_HOME: join(dir, 'home') } });
    expect(logs.code, logs.stderr).toBe(0);
    expect((JSON.parse(logs.stdout) as { attempts: { state: string }[] }).attempts.filter((a) => a.state === 'succeeded').length).toBeGreaterThan(0);
    const status = await runMr(['status', uber.json.jobId, '--json'], { env: { MR_HOME: join(dir, 'home') } });
    expect(JSON.parse(status.stdout).jobs[0].state).toBe('succeeded');

    // A job of its own functions never runs uber: only a worker process contains what they may do.
    const own = await run(join(FIXTURES, 'prints-in-map.ts'), [join(dir, 'a.txt')]);
    expect(own.json.uber).toBe(false);
    expect(otherProcesses(own.json).length).toBeGreaterThan(0);
    expect(own.stderr).not.toContain('from map'); // what it prints stays with its attempt
  });

  it('is off with --no-uber, MR_NO_UBER=1, --workers, --transport, or an input past the limits', async () => {
    const tiny = [join(dir, 'a.txt')];
    for (const [extra, env] of [[['--no-uber'], {}], [[], { MR_NO_UBER: '1' }], [['--workers', '1'], {}], [['--transport', 'grpc'], {}]] as const) {
      const { json } = await run('jobs/wordcount.ts', tiny, [...extra], env);
      expect(json.uber, JSON.stringify(extra)).toBe(false);
      expect(otherProcesses(json).length, JSON.stringify(extra)).toBeGreaterThan(0);
    }
    for (const input of [join(dir, 'big.txt'), join(dir, 'many', '*.txt')]) {
      const { json } = await run('jobs/wordcount.ts', [input]);
      expect(json.uber, input).toBe(false);
      expect(otherProcesses(json).length, input).toBeGreaterThan(0);
    }
  });

  it("bin/mr.mjs's early guess: a plain path or a simple glob within the limits, no option that asks for workers", () => {
    const env = {};
    const run = (...args: string[]) => ['run', 'jobs/wordcount.ts', ...args, '--output', join(dir, 'never')];
    expect(looksUber(run('--input', join(dir, 'a.txt')), env)).toBe(true);
    expect(looksUber(run('--input', join(dir, '*.txt')), env)).toBe(false);       // big.txt is in it
    expect(looksUber(run('--input', join(dir, '?.txt'), '--json'), env)).toBe(true);
    expect(looksUber(run('--input', join(dir, '{a,b}.txt')), env)).toBe(false);   // not cheap to tell: no guess
    expect(looksUber(run('--input', join(dir, 'many', '*.txt')), env)).toBe(false);   // one file too many
    expect(looksUber(run('--input', join(dir, 'a.txt'), '--workers', '2'), env)).toBe(false);
    expect(looksUber(run('--input', join(dir, 'a.txt'), '--transport=grpc'), env)).toBe(false);
    expect(looksUber(run('--input', join(dir, 'a.txt'), '--no-uber'), env)).toBe(false);
    expect(looksUber(run('--input', join(dir, 'a.txt')), { MR_NO_UBER: '1' })).toBe(false);
    expect(looksUber(run('--input', join(dir, 'missing.txt')), env)).toBe(false);
  });
});
