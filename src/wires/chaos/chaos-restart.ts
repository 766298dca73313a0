// restart=<node>@<t>: the node's process is killed (SIGKILL) t after the chaos epoch, as when an
// administrator other than the cluster's restarts its machine without a word. Whoever runs the
// process starts it again (`mr run` replaces a worker that died; a daemon has its supervisor); the
// new process sees the moment has passed and lives on.
import type { ChaosSettings } from './chaos-node.ts';

export function scheduleRestarts(settings: ChaosSettings, node: string, kill: () => void, clock: () => number = Date.now): NodeJS.Timeout[] {
  const sinceEpochMs = clock() - settings.epochMs;
  return (settings.spec.restarts ?? [])
    .filter((r) => r.node === node && r.atMs > sinceEpochMs)
    .map((r) => setTimeout(kill, r.atMs - sinceEpochMs).unref());
}
