// The status page's files (src/http/page/), served at / and /static/<name>. Found from this source
// file's URL, which the engine bundle keeps (bin/build-engine.mjs), so the folder is the package's own.
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** A file of the page folder (name already checked to be a plain file name), or undefined. */
export async function readPageFile(name: string, dir = PAGE_DIR): Promise<Buffer | undefined> {
  try {
    return await readFile(join(dir, name));
  } catch {
    return undefined;
  }
}

/** Served at / while the page is missing (a package without it): the JSON routes still work. */
export const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mr status</title><link rel="icon" href="data:,"></head>
<body><h1>mr</h1><p>The status page is not installed. The same figures: <a href="/api/jobs">/api/jobs</a>,
<a href="/metrics">/metrics</a>, or <code>mr status --master H:P</code>.</p></body></html>
`;
