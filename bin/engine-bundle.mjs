// Where the prebuilt engine bundle lives (.cache/engine, never committed) and whether it is up to
// date. bin/mr.mjs runs it instead of src/ through tsx when it is: that spares every process of a
// job the loader-hooks thread and the per-module TypeScript transform. Node built-ins only.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = join(ROOT, '.cache', 'engine');
export const STAMP_NAME = 'stamp.json'; // { startedMs, entry, files }: the current build
export const SOURCE_DIR = join(ROOT, 'src');
/** Files the bundle also depends on: how it is built, the TypeScript settings esbuild reads, and the bin/ modules src/ imports. */
export const BUILD_INPUTS = [join(ROOT, 'bin', 'build-engine.mjs'), join(ROOT, 'tsconfig.json'), join(ROOT, 'bin', 'early-workers.mjs'), join(ROOT, 'bin', 'uber-input.mjs')];

/**
 * The file: URL of the bundle's CLI entry, or undefined when there is no bundle or something it
 * was built from changed since the build started (a file or folder under src/, or a build input).
 * A folder's mtime moves when a file in it is added, removed or renamed.
 */
export function freshBundleEntry(bundleDir = BUNDLE_DIR, sourceDir = SOURCE_DIR, buildInputs = BUILD_INPUTS) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(bundleDir, STAMP_NAME), 'utf8'));
  } catch {
    return undefined;
  }
  try {
    for (const path of [...buildInputs, sourceDir]) if (statSync(path).mtimeMs >= stamp.startedMs) return undefined;
    for (const entry of readdirSync(sourceDir, { recursive: true })) {
      if (statSync(join(sourceDir, entry)).mtimeMs >= stamp.startedMs) return undefined;
    }
    for (const file of stamp.files) statSync(join(bundleDir, file));
    return pathToFileURL(join(bundleDir, stamp.entry)).href;
  } catch {
    return undefined; // a file vanished while we looked: the sources are changing
  }
}
