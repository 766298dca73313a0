// Runs the real `mr` command as a user would (a child process), and reads its output files.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MR = join(ROOT, 'bin', 'mr.mjs');
export const BOOKS = join(ROOT, 'datasets', 'gutenberg', '*.txt');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface MrResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startMr(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [MR, ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function finished(child: ChildProcess): Promise<MrResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Resolves with the first match of pattern in what the child has written to stderr so far. */
export function stderrMatch(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  let stderr = '';
  return new Promise((resolve) => {
    const onData = (data: Buffer) => {
      stderr += data;
      const match = pattern.exec(stderr);
      if (!match) return;
      child.stderr?.off('data', onData);
      resolve(match);
    };
    child.stderr?.on('data', onData);
  });
}

export function runMr(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<MrResult> {
  return finished(startMr(args, options));
}

export async function tempDir(prefix = 'mr-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The part-r-* files of an output directory, in name order, with their text. */
export async function readParts(dir: string): Promise<{ name: string; text: string }[]> {
  const names = (await readdir(dir)).filter((name) => name.startsWith('part-r-')).sort();
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
}

/** key -> value over all part files; fails on a key seen twice. */
export function recordsOf(parts: { text: string }[]): Map<string, string> {
  const records = new Map<string, string>();
  for (const { text } of parts) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const tab = line.indexOf('\t');
      const key = line.slice(0, tab);
      if (records.has(key)) throw new Error(`key ${key} appears twice`);
      records.set(key, line.slice(tab + 1));
    }
  }
  return records;
}
