// Where in a user's code an error was thrown: the first frame of its stack that is neither Node's
// nor the engine's. Job modules are compiled with source maps (job-compiler.ts), and a process
// that loads jobs turns them on, so the frame names the user's .ts file and line.
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneLine } from '../errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENGINE_DIRS = ['src', '.cache', 'node_modules', 'bin'].map((dir) => ROOT + dir + sep);

/** `file:line:column` of the first user frame of error's stack, if it has one. */
export function userFrame(error: unknown): string | undefined {
  const stack = (error as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return undefined;
  for (const line of stack.split('\n')) {
    const match = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (!match) continue;
    let file = match[1];
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || !file.startsWith(sep) && !/^[A-Za-z]:\\/.test(file)) continue;
    if (ENGINE_DIRS.some((dir) => file.startsWith(dir))) continue;
    return `${file}:${match[2]}:${match[3]}`;
  }
  return undefined;
}

/** An error thrown by a user's code as one line, with the file and line of theirs it came from. */
export function thrownByUser(error: unknown): string {
  const frame = userFrame(error);
  return frame ? `${oneLine(error)} (at ${frame})` : oneLine(error);
}
