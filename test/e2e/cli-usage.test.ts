// The command line's own errors through the real CLI: numeric options, mistyped names, --version,
// --json on failure, and --split-mib's help beside docs/running.md.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, removeDir, runMr, tempDir } from '../helpers/run-mr.ts';

let dir: string;
let input: string;
beforeAll(async () => {
  dir = await tempDir();
  input = join(dir, 'in.txt');
  await writeFile(input, 'Holmes and Watson\n');
});
afterAll(() => removeDir(dir));

const wordcount = join(ROOT, 'jobs', 'wordcount.ts');

describe('numeric options', () => {
  const cases: [string[], string][] = [
    [['run', wordcount, '--input', 'x', '--output', 'y', '--workers', 'abc'], "--workers must be a whole number >= 1, got 'abc'"],
    [['run', wordcount, '--input', 'x', '--output', 'y', '--reducers', '2.5'], "--reducers must be a whole number >= 1, got '2.5'"],
    [['run', wordcount, '--input', 'x', '--output', 'y', '--split-mib', 'big'], "--split-mib must be a positive number, got 'big'"],
    [['run', wordcount, '--input', 'x', '--output', 'y', '--link-latency-us', 'slow'], "--link-latency-us must be a number >= 0, got 'slow'"],
    [['run', wordcount, '--input', 'x', '--output', 'y', '--max-attempts'], '--max-attempts must be a whole number >= 1, got no value'],
    [['master', '--work-dir', 'w', '--lease-ms', '1s'], "--lease-ms must be a whole number >= 1, got '1s'"],
    [['worker', '--work-dir', 'w', '--master', '127.0.0.1:1', '--slots', 'two'], "--slots must be a whole number >= 1, got 'two'"],
    [['worker', '--work-dir', 'w', '--master', '127.0.0.1:1', '--listen-port', '70000'], "--listen-port must be a port number from 0 to 65535, got '70000'"],
    [['master', '--work-dir', 'w', '--ha', 'localhost:2379'], '--ha wants client URLs like http://127.0.0.1:2379, comma-separated; got "localhost:2379"'],
    [['master', '--work-dir', 'w', '--ha', 'http://127.0.0.1:2379'], '--ha needs --listen host:port with a fixed port: the clients of masters that stand in for each other are given every address (--master a,b)'],
    [['bench', wordcount, '--input', 'x', '--repeat', 'x3'], "--repeat must be a whole number >= 1, got 'x3'"],
    [['bench', wordcount, '--input', 'x', '--workers', '1,abc'], "--workers wants whole numbers of at least 1, got 'abc'"],
    [['drain', 'three', '--master', '127.0.0.1:1'], "<node> must be a whole number >= 0, got 'three'"],
  ];
  for (const [args, message] of cases) {
    it(`${args[0]} ${args.slice(-2).join(' ')}`, async () => {
      const result = await runMr(args, { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`mr: ${message}\n`);
    });
  }
});

describe('mistyped names', () => {
  it('a subcommand gets the nearest one', async () => {
    const result = await runMr(['rnu', wordcount]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("mr: unknown command 'rnu'; did you mean 'run'?\n");
  });

  it('a word far from every command gets none', async () => {
    const result = await runMr(['xyzzy']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("mr: unknown command 'xyzzy' (see mr --help)\n");
  });

  it("an option gets the nearest of its command's options", async () => {
    const result = await runMr(['master', '--work-dir', dir, '--leese-ms', '5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("mr: unknown option --leese-ms; did you mean '--lease-ms'?\n");
  });
});

describe('a missing positional argument', () => {
  const cases: [string[], string][] = [
    [['run', '--input', 'in.txt', '--output', 'o'], 'no job file given; give one (or several, to chain): mr run <job.ts> --input <glob> --output <dir>'],
    [['check'], 'no job file given; give one or more: mr check <job.ts> [<job2.ts> ...]'],
    [['bench', '--input', 'in.txt'], 'no job file given; give one: mr bench <job.ts> --input <glob> --workers 1,2,4'],
    [['kill', '--master', '127.0.0.1:1'], 'no job given; give its id (mr list shows them): mr kill <job> --master <host:port>'],
    [['logs'], 'no job given; give its id (mr list shows them): mr logs <job>'],
  ];
  for (const [args, message] of cases) {
    it(`mr ${args[0]} without it: one line saying what to give, exit 2`, async () => {
      const result = await runMr(args, { cwd: dir });
      expect(result.stderr).toBe(`mr: ${message}\n`);
      expect(result.code).toBe(2);
    });
  }
});

describe('an option that takes one value, given twice', () => {
  const cases: [string[], string][] = [
    [['run', wordcount, '--input', 'in.txt', '--output', 'o-twice', '--workers', '2', '--workers', '3'], "--workers was given 2 times ('2', '3'); give it once"],
    [['run', wordcount, '--input', 'in.txt', '--output', 'o-a', '--output=o-b'], "--output was given 2 times ('o-a', 'o-b'); give it once"],
    [['run', wordcount, '--input', 'in.txt', '--output', 'o-t', '--transport', 'grpc', '--transport', 'memory'], "--transport was given 2 times ('grpc', 'memory'); give it once"],
    [['master', '--work-dir', 'w1', '--work-dir', 'w2'], "--work-dir was given 2 times ('w1', 'w2'); give it once"],
    [['kill', 'j', '--master', '127.0.0.1:1', '-s', 'TERM', '--signal', 'KILL'], "--signal was given 2 times ('TERM', 'KILL'); give it once"],
    [['bench', wordcount, '--input', 'in.txt', '--workers', '1,2', '--workers', '4'], "--workers was given 2 times ('1,2', '4'); give it once"],
  ];
  for (const [args, message] of cases) {
    it(`mr ${args[0]} ${message.split(' ')[0]}: refused, exit 2`, async () => {
      const result = await runMr(args, { cwd: dir });
      expect(result.stderr).toBe(`mr: ${message}\n`);
      expect(result.code).toBe(2);
    });
  }

  it('--input and --set repeat', async () => {
    const out = join(dir, 'o-repeat');
    const result = await runMr(['run', wordcount, '--input', 'in.txt', '--input', 'in.txt', '--output', out, '--set', 'a=1', '--set', 'b=2', '--workers', '1', '--quiet'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('--version', () => {
  it('prints the package version, as mr version does', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['version']]) {
      const result = await runMr(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`mr ${version}\n`);
    }
  });
});

describe('--json on failure', () => {
  it('a usage error prints the error and exit code as one object on stdout, and the line on stderr', async () => {
    const result = await runMr(['run', wordcount, '--input', join(dir, 'none-*.txt'), '--output', join(dir, 'o1'), '--json']);
    expect(result.code).toBe(2);
    const line = `--input ${join(dir, 'none-*.txt')} matches no file; check the path, and quote the glob`;
    expect(result.stderr).toBe(`mr: ${line}\n`);
    expect(JSON.parse(result.stdout)).toEqual({ error: line, exit: 2 });
  });

  it('a master that does not answer: exit 3 in the object', async () => {
    const result = await runMr(['status', '--master', '127.0.0.1:1', '--json']);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ exit: 3 });
  });

  it('a failed job prints its result object only, once', async () => {
    const out = join(dir, 'o2');
    const result = await runMr(['run', join(FIXTURES, 'throws-in-map.ts'), '--input', input, '--output', out, '--workers', '1', '--max-attempts', '1', '--json', '--quiet']);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ok: false });
  });
});

describe('--split-mib', () => {
  it("help and docs/running.md say the same default: about two map tasks per worker, 4 to 64 MiB", async () => {
    const help = await runMr(['run', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('about two map tasks per worker, 4 to 64 MiB');
    const docs = await readFile(join(ROOT, 'docs', 'running.md'), 'utf8');
    expect(docs).toMatch(/--split-mib.*about two map tasks per worker, at most 64 MiB and at least 4 MiB/);
  });
});

describe('workers started before the arguments are checked', () => {
  // mr run starts its worker processes first (they load while it checks its arguments): a run
  // refused after that leaves neither a process nor its work directory behind.
  it.each([
    ['a bad input', ['--input', 'no-such-file-*.txt']],
    ['an output that is a file', ['--input', 'in.txt', '--output', 'in.txt']],
    ['a job that does not compile', ['--input', 'in.txt'], 'broken.ts'],
    ['an unknown option', ['--input', 'in.txt', '--no-such-option', '1']],
    ['an option given twice', ['--input', 'in.txt', '--workers', '3']],
  ])('%s leaves no worker and no work directory', async (_name, args, jobFile?: string) => {
    const tmp = join(dir, `tmp-${_name.replace(/\W+/g, '-')}`);
    await (await import('node:fs/promises')).mkdir(tmp, { recursive: true });
    if (jobFile) await writeFile(join(dir, jobFile), 'export default { map( };\n');
    const job = jobFile ? join(dir, jobFile) : wordcount;
    const output = args.includes('--output') ? [] : ['--output', join(dir, `out-${_name.length}`)];
    const result = await runMr(['run', job, ...args, ...output, '--workers', '2'], { cwd: dir, env: { TMPDIR: tmp } });
    expect(result.code, result.stderr).not.toBe(0);
    const left = (await (await import('node:fs/promises')).readdir(tmp)).filter((name) => name.startsWith('mr-run-'));
    expect(left).toEqual([]);
    const { execFileSync } = await import('node:child_process');
    const running = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes('__worker') && line.includes(tmp));
    expect(running).toEqual([]);
  });
});
