// A pair of balancers in front of the horizontal backend's servers, as daemons: the servers join
// both (the farm's membership is each balancer's), the master's dispatcher knows both and sends
// each task to the one that answers. kill -9 of the active balancer mid-job: its requests go to
// the other, the job finishes with the output of every backend, no attempt fails, and the
// master's journal commits every task once.
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBalancer } from '../../src/backends/horizontal/balancer/balancer-client.ts';
import { FIXTURES, finished, readParts, removeDir, runMr, startMr, stderrMatch, tempDir } from '../helpers/run-mr.ts';
import { daemon as startDaemon } from '../helpers/daemon.ts';
import { until } from '../helpers/until.ts';

let dir: string;
const daemons: ChildProcess[] = [];

const daemon = (args: string[]) => startDaemon(args, daemons);

beforeAll(async () => {
  dir = await tempDir();
  for (let f = 0; f < 6; f++) await writeFile(join(dir, `in-${f}.txt`), `${Array.from({ length: 120 }, (_, i) => 'p'.repeat((i * 3 + f) % 23)).join('\n')}\n`);
});
afterAll(async () => {
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  await removeDir(dir);
});

describe('a pair of balancers', () => {
  it('loses the active balancer mid-job (kill -9): its requests go to the other, nothing fails, nothing commits twice', async () => {
    const [first, second] = [await daemon(['balancer', '--listen', '127.0.0.1:0']), await daemon(['balancer', '--listen', '127.0.0.1:0'])];
    const pair = `${first.address},${second.address}`;
    for (let s = 0; s < 2; s++) await daemon(['worker', '--join', pair, '--work-dir', join(dir, `server-${s}`)]);
    // Both balancers know both servers: the membership is shared.
    for (const b of [first, second]) {
      const client = connectBalancer(b.address);
      await until(`both servers at ${b.address}`, async () => ((await client.listServers()).servers.filter((s) => s.healthy).length === 2 ? true : undefined), 10_000);
      client.close();
    }
    const master = await daemon(['master', '--listen', '127.0.0.1:0', '--work-dir', join(dir, 'master'), '--balancer', pair, '--shared-dir', join(dir, 'shared'), '--dispatch-slots', '4']);
    const job = startMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'in-*.txt'), '--output', join(dir, 'out'), '--master', master.address,
      '--transport', 'horizontal', '--reducers', '2', '--no-packing', '--no-speculation', '--set', 'lineMs=25', '--quiet']);
    const jobId = (await stderrMatch(job, /^job (\S+)$/m))[1];
    // Requests in flight through the first balancer (the dispatcher's first choice), one map committed.
    const active = connectBalancer(first.address);
    await until('requests through the first balancer and a map committed', async () => {
      const busy = (await active.listServers()).servers.some((s) => s.outstanding > 0);
      const status = JSON.parse((await runMr(['status', jobId, '--master', master.address, '--json'])).stdout).jobs[0];
      return busy && status.mapDone >= 1 ? true : undefined;
    }, 30_000);
    active.close();
    first.child.kill('SIGKILL');
    const r = await finished(job);
    expect(r.code, r.stderr).toBe(0);
    const memory = await runMr(['run', join(FIXTURES, 'slow-lines.ts'), '--input', join(dir, 'in-*.txt'), '--output', join(dir, 'memory'), '--transport', 'memory', '--reducers', '2', '--quiet']);
    expect(await readParts(join(dir, 'out'))).toEqual(await readParts(join(dir, 'memory')));
    const status = JSON.parse((await runMr(['status', jobId, '--master', master.address, '--json'])).stdout).jobs[0];
    if (status.stages[0].failedAttempts) console.log((await runMr(['logs', jobId, '--master', master.address])).stdout.slice(0, 3000));
    expect(status.stages[0].failedAttempts).toBe(0);   // no request was lost: each went on through the other balancer
    const journal = (await readFile(join(dir, 'master', 'journal.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { t: string; jobId?: string; kind?: string; index?: number });
    const done = journal.filter((rec) => rec.t === 'task-done' && rec.jobId === jobId).map((rec) => `${rec.kind} ${rec.index}`);
    expect(done).toHaveLength(8);   // 6 maps and 2 reduces
    expect(new Set(done).size).toBe(done.length);
  }, 120_000);
});
