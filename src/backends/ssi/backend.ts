// ssi: a single system image. Worker processes that read map outputs through one /cluster
// namespace; attempts move off nodes that die or are drained (its figure: migrations).
import { createSsiWire } from './ssi-wire.ts';
import { commonReport, type Backend } from '../backend.ts';
import { processPool } from '../process-backend.ts';

export const ssiBackend: Backend = {
  name: 'ssi',
  wire: createSsiWire,
  runs: { sizing: 'nodes', tls: true },
  pool: (context) => processPool(context, 'ssi'),
  report: (_pool, facts) => ({ ...commonReport(facts), migrations: facts.migrations }),
};
