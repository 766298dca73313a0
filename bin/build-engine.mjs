#!/usr/bin/env node
// Builds the engine bundle that bin/mr.mjs runs when it is up to date (see engine-bundle.mjs):
// src/cli/main.ts and what it imports, in ES module chunks (a command's code loads only when it
// runs), with node_modules left external. Run by `npm start` and `npm test` before they start.
// A build that fails is only a warning: mr then runs src/ through tsx, as it would without one.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { BUNDLE_DIR, ROOT, SOURCE_DIR, STAMP_NAME } from './engine-bundle.mjs';

const BIN_DIR = join(ROOT, 'bin');

const STAMP = join(BUNDLE_DIR, STAMP_NAME);

const KEEP_OLD_FILES_MS = 10 * 60_000; // a process started from an older build may still import its chunks

/**
 * import.meta.url in a bundle is the chunk's URL; the sources compute paths from their own
 * (bin/mr.mjs, proto/, worker entries), so each source (of src/, or of bin/ that src/ imports) gets
 * the URL of the file it came from.
 */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.(ts|mjs)$/ }, (args) => {
      if (!args.path.startsWith(SOURCE_DIR + sep) && !args.path.startsWith(BIN_DIR + sep)) return undefined;
      const fromBundle = relative(BUNDLE_DIR, args.path).split(sep).join('/');
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return { contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', url), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

async function buildEngine() {
  const startedMs = Date.now(); // a source saved during the build leaves the bundle stale
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(SOURCE_DIR, 'cli', 'main.ts') },
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    packages: 'external',
    keepNames: true, // errors take their name from their class (new.target.name)
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    plugins: [sourceUrls],
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(BUNDLE_DIR, { recursive: true });
  // Names carry a hash of the contents: a file already there is this one, and a process running an
  // older build keeps finding its own files. Each file appears complete (temporary name, rename).
  const files = [];
  for (const file of result.outputFiles) {
    files.push(basename(file.path));
    if (existsSync(file.path)) {
      utimesSync(file.path, new Date(), new Date()); // in use again: not pruned below
      continue;
    }
    writeAtomically(file.path, file.contents);
  }
  const entry = files.find((name) => /^main-.*\.mjs$/.test(name));
  writeAtomically(STAMP, JSON.stringify({ startedMs, entry, files }) + '\n');
  prune(new Set([...files, ...currentFiles(), STAMP_NAME]));
}

function writeAtomically(path, contents) {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temp, contents);
  renameSync(temp, path);
}

/** The files of the build the stamp names now (a concurrent build may have written it last). */
function currentFiles() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8')).files ?? [];
  } catch {
    return [];
  }
}

function prune(keep) {
  for (const name of readdirSync(BUNDLE_DIR)) {
    const path = join(BUNDLE_DIR, name);
    try {
      if (!keep.has(name) && Date.now() - statSync(path).mtimeMs > KEEP_OLD_FILES_MS) rmSync(path, { force: true });
    } catch {
      // gone already: another build pruned it
    }
  }
}

try {
  await buildEngine();
} catch (error) {
  process.stderr.write(`mr: could not build the engine bundle (${String(error?.message ?? error).split('\n')[0]}); mr runs src/ through tsx instead, which starts slower\n`);
}
