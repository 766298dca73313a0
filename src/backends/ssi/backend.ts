// ssi: a single system image. Worker processes that read map outputs through one /cluster
// namespace; attempts move off nodes that die or are drained (its figure: migrations), and a map
// resumes from its latest checkpoint where it moves to (resumes, bytesResumed).
import { join } from 'node:path';
import { MapOutputStore } from '../../storage/map-output-store.ts';
import { ClusterNamespace } from './cluster-namespace.ts';
import { createSsiWire } from './ssi-wire.ts';
import { commonReport, type Backend } from '../backend.ts';
import { SsiPool, workerAgreement } from './ssi-pool.ts';

export const ssiBackend: Backend = {
  name: 'ssi',
  wire: createSsiWire,
  // Map processes checkpoint every second: one moved off a drained or dead node resumes there.
  runs: { sizing: 'nodes', tls: true, checkpointMs: 1000 },
  pool: (context) => new SsiPool(context),
  // Every map output is a file (never kept in memory): the namespace names it, map-out/<id>.
  workerParts: ({ workDir, transport, etcd, master }) => {
    const agreed = etcd && master ? workerAgreement(etcd, master) : undefined;
    const { holderOf, counts, ...parts } = agreed ?? {};
    let files: ClusterNamespace | undefined;
    return {
      store: new MapOutputStore(join(workDir, 'map-out')),
      files: (host) => (files = new ClusterNamespace(host, workDir, transport, holderOf)),
      // What this node's share of the single image cost: its mirrors' etcd traffic, and the requests it forwarded.
      agreement: () => ({ writes: counts?.writes ?? 0, watchEvents: counts?.watchEvents ?? 0, forwarded: files?.forwarded ?? 0 }),
      ...parts,
    };
  },
  report: (pool, facts) => {
    const counts = (pool as SsiPool).counts;
    const { checkpointsSeen, resumes, bytesResumed } = facts.resumes;
    const nodes = facts.processes.filter((p) => p.role === 'worker');
    const onNodes = (figure: 'watchEvents' | 'forwarded'): number => nodes.reduce((sum, p) => sum + (p.agreement?.[figure] ?? 0), 0);
    return {
      ...commonReport(facts), migrations: facts.migrations, checkpoints: checkpointsSeen, resumes, bytesResumed, forwardedRequests: onNodes('forwarded'),
      ...(counts ? { etcd: { ...counts, watchEventsOnNodes: onNodes('watchEvents') } } : {}),
    };
  },
};
