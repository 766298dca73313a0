// ssi: a single system image. Worker processes that read map outputs through one /cluster
// namespace; attempts move off nodes that die or are drained (its figure: migrations).
import { join } from 'node:path';
import { MapOutputStore } from '../../storage/map-output-store.ts';
import { ClusterNamespace } from './cluster-namespace.ts';
import { createSsiWire } from './ssi-wire.ts';
import { commonReport, type Backend } from '../backend.ts';
import { SsiPool, workerAgreement } from './ssi-pool.ts';

export const ssiBackend: Backend = {
  name: 'ssi',
  wire: createSsiWire,
  runs: { sizing: 'nodes', tls: true },
  pool: (context) => new SsiPool(context),
  // Every map output is a file (never kept in memory): the namespace names it, map-out/<id>.
  workerParts: ({ workDir, transport, etcd, master }) => {
    const agreed = etcd && master ? workerAgreement(etcd, master) : undefined;
    const { holderOf, ...parts } = agreed ?? {};
    return {
      store: new MapOutputStore(join(workDir, 'map-out')),
      files: (host) => new ClusterNamespace(host, workDir, transport, holderOf),
      ...parts,
    };
  },
  report: (pool, facts) => {
    const counts = (pool as SsiPool).counts;
    return { ...commonReport(facts), migrations: facts.migrations, ...(counts ? { etcd: { ...counts } } : {}) };
  },
};
