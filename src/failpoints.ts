// Fail points: named places in the worker and the master where a test can make the process die
// on purpose, to hit one phase of a job exactly (a testing aid, like FreeBSD's fail points or
// etcd's gofail). Armed by the CLI from MR_FAILPOINTS; unarmed, failpoint() is one comparison.
import { closeSync, openSync, writeSync } from 'node:fs';
import { UsageError } from './errors.ts';

/** Every fail point, where it is. */
export const FAILPOINTS = {
  'worker.map.after-records': 'a map attempt has mapped its first records (up to 256)',
  'worker.shuffle.after-first-run': 'a reduce attempt has the run of one map output, the others not yet',
  'worker.reduce.after-first-key': 'a reduce attempt has reduced its first key into its temporary file',
  'worker.reduce.before-commit': "a reduce attempt's temporary file is complete; it has not asked to commit",
  'worker.reduce.before-rename': 'a reduce attempt may commit; its temporary file is not yet renamed',
  'worker.reduce.mid-upload': "a reduce attempt writing to object storage has uploaded a piece of its part (not completed)",
  'master.map.after-commit': "the master has journaled a map task's commit",
  'master.shuffle.reduce-running': "a worker's heartbeat says a reduce attempt runs (its shuffle has begun)",
  'master.reduce.after-commit': "the master has journaled a reduce task's commit",
  'master.commit.before-success': "every part file of a stage is in place; _SUCCESS is not written",
} as const;

export type FailpointName = keyof typeof FAILPOINTS;
const ACTIONS = ['kill'] as const;
type Action = (typeof ACTIONS)[number];

let armed: Map<string, Action> | undefined;
let onceFile: string | undefined;

/**
 * Arms the fail points of spec (`name=action[,name=action...]`; the one action: kill, which is
 * SIGKILL to this process). With onceFile, a point fires only for the process that creates that
 * file first (O_EXCL), so across all the processes of a cluster it fires once.
 */
export function armFailpoints(spec: string | undefined, once?: string): void {
  if (!spec) return;
  const points = new Map<string, Action>();
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, action = 'kill'] = item.split('=');
    if (!(name in FAILPOINTS)) throw new UsageError(`MR_FAILPOINTS: unknown fail point ${name}; known: ${Object.keys(FAILPOINTS).join(', ')}`);
    if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`MR_FAILPOINTS: unknown action ${action} for ${name}; known: ${ACTIONS.join(', ')}`);
    points.set(name, action as Action);
  }
  armed = points;
  onceFile = once || undefined;
}

export function failpoint(name: FailpointName): void {
  if (armed === undefined) return;
  const action = armed.get(name);
  if (action === undefined) return;
  if (!claim(name)) {
    armed.delete(name); // spent: no more file system calls for it
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}

/** True when this process may fire: no once file, or this process created it (and wrote who it is). */
function claim(name: string): boolean {
  if (onceFile === undefined) return true;
  let fd: number;
  try {
    fd = openSync(onceFile, 'wx');
  } catch {
    return false; // fired already, here or in another process
  }
  writeSync(fd, `${name} ${process.pid}\n`);
  closeSync(fd);
  return true;
}
