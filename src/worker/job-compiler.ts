// Compiles a job module and everything it imports from the user's files into one ES module,
// named by the hash of its contents: a process imports a job by that name, so an edited job is
// a new module and never the one loaded before from the same path.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { IMPORT_NAMES } from '../config.ts';

/** The package entry a job's `import ... from 'mr'` gets: compiled into the job, so it needs no loader at run time. */
const MR_ENTRY = fileURLToPath(new URL('../index.ts', import.meta.url));

export interface CompiledJob {
  hash: string;          // sha256 of the compiled module: what a job's spec says was submitted
  url: string;           // file: URL of the compiled module, to import
}

/** Where compiled jobs are kept: per user, because modules are code that processes run. */
function cacheDir(): string {
  let user = 'user';
  try {
    user = String(userInfo().uid);
  } catch {
    // no passwd entry: one directory for all such processes
  }
  return join(tmpdir(), `mr-jobs-${user}`);
}

/**
 * Compiles the job at path. Packages it imports stay outside the module, imported by the file
 * they resolve to from the job's own folder; the job's own files are inside it, with
 * import.meta.url (dirname, filename) still theirs, and an inline source map so that a stack
 * trace names the user's file and line. Throws esbuild's error when the job does not compile.
 */
export async function compileJob(path: string): Promise<CompiledJob> {
  const dir = cacheDir();
  const known = compiledBefore(dir, path);
  if (known) return known;
  const startedMs = Date.now();
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path],
    outfile: join(dir, 'job.mjs'), // only its folder matters: source paths are relative to it
    absWorkingDir: dirname(path),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    conditions: [], // Node's conditions (import, node, default), not also a bundler's 'module'
    sourcemap: 'inline',
    keepNames: true,
    logLevel: 'silent',
    plugins: [userFilesKeepTheirUrls, packagesStayOutside],
    metafile: true,
  });
  const code = result.outputFiles[0].contents;
  const hash = createHash('sha256').update(code).digest('hex');
  const file = join(dir, `${hash}.mjs`);
  if (!sameFile(file, code)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, code, { mode: 0o600 });
    renameSync(temp, file); // appears whole: another process may be importing the same job
  }
  const inputs = Object.keys(result.metafile?.inputs ?? {}).map((input) => resolve(dirname(path), input));
  remember(dir, path, inputs, hash, startedMs);
  return { hash, url: pathToFileURL(file).href };
}

/**
 * What a compile of the job at path saw: every file it read, with its size and mtime, and the
 * hash it came to. A later compile of the same path with every such file unchanged would come
 * to the same module, so it is skipped (mr run compiles its job on every run, and esbuild's
 * start is a good part of a small job's time). Packages the job imports are not compiled in,
 * so they are not among the files.
 */
interface CompileRecord {
  inputs: [path: string, size: number, mtimeMs: number][];
  hash: string;
}

function recordPath(dir: string, path: string): string {
  const key = createHash('sha256').update(`${path}\0${process.versions.node}\0${MR_ENTRY}`).digest('hex');
  return join(dir, 'compiled', `${key}.json`);
}

function compiledBefore(dir: string, path: string): CompiledJob | undefined {
  let record: CompileRecord;
  try {
    record = JSON.parse(readFileSync(recordPath(dir, path), 'utf8')) as CompileRecord;
    for (const [input, size, mtimeMs] of record.inputs) {
      const info = statSync(input);
      if (info.size !== size || info.mtimeMs !== mtimeMs) return undefined;
    }
  } catch {
    return undefined;   // none yet, or a file it read is gone
  }
  return compiledByHash(record.hash);
}

/** Keeps the compile's record, unless a file it read changed so recently that the compile may have read it half-way (then the next run compiles again). */
function remember(dir: string, path: string, inputs: string[], hash: string, startedMs: number): void {
  try {
    const stats = inputs.map((input): [string, number, number] => {
      const info = statSync(input);
      return [input, info.size, info.mtimeMs];
    });
    if (stats.some(([, , mtimeMs]) => mtimeMs >= startedMs - RECENT_MS)) return;
    const file = recordPath(dir, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ inputs: stats, hash } satisfies CompileRecord), { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    // no record: the next run compiles again
  }
}

const RECENT_MS = 2000;

/**
 * The compiled module of that hash, when this machine has it (the submitter compiled it here, or
 * an earlier task did) and it still holds what the hash says: the very code that was submitted,
 * imported without compiling anything.
 */
export function compiledByHash(hash: string): CompiledJob | undefined {
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  const file = join(cacheDir(), `${hash}.mjs`);
  try {
    if (createHash('sha256').update(readFileSync(file)).digest('hex') !== hash) return undefined;
  } catch {
    return undefined;
  }
  return { hash, url: pathToFileURL(file).href };
}

function sameFile(file: string, code: Uint8Array): boolean {
  if (!existsSync(file)) return false;
  try {
    return Buffer.compare(readFileSync(file), code) === 0;
  } catch {
    return false;
  }
}

const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx', '.json': 'json' } as const;

/** A job's own file keeps its import.meta.url (and dirname, filename) when it is compiled into another. */
const userFilesKeepTheirUrls: Plugin = {
  name: 'user-files-keep-their-urls',
  setup(build) {
    build.onLoad({ filter: /\.(m|c)?(t|j)sx?$/ }, (args) => {
      if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)));
      return { contents, loader: LOADERS[extname(args.path) as keyof typeof LOADERS] ?? 'js' };
    });
  },
};

/**
 * `mr` is compiled in; Node's built-ins stay as they are; any other package is imported by the
 * absolute URL it resolves to from the importing file, since the compiled module lies elsewhere.
 */
const packagesStayOutside: Plugin = {
  name: 'packages-stay-outside',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      if (IMPORT_NAMES.includes(args.path)) return { path: MR_ENTRY };
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: pathToFileURL(resolved.path).href, external: true };
    });
  },
};
