// The layering of src/, checked by `npm test` (test/unit/layering.test.ts runs dependency-cruiser):
// imports point one way, from the CLI down to the pure core.
//
//   cli ──> http, master, backends, pools, worker, wires, storage, core
//   backends ──> pools, worker, wires, storage, core (never cli, master, http)
//   http ──> master, wires, core            (never cli)
//   master, worker ──> wires, storage, core (never cli; not each other)
//   pools ──> worker, wires, storage, core (thread entries may create a backend's transport)
//   worker ──> wires, storage, core (never backends, pools, master, cli, http)
//   wires ──> storage, core (never a backend, pool or role)
//   storage ──> core
//   core ──> nothing of src/ (no I/O, no clock)
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'Modules import each other in one direction only.', from: {}, to: { circular: true } },
    {
      name: 'core-is-pure', severity: 'error', comment: 'src/core is pure logic: it imports nothing else of src/ and no module that does I/O.',
      from: { path: '^src/core/' },
      to: { pathNot: ['^src/core/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-no-io', severity: 'error', comment: 'src/core does no I/O: no file system, network, processes or threads.',
      from: { path: '^src/core/' },
      to: { path: '^(node:)?(fs|fs/promises|net|http|http2|https|child_process|worker_threads|dgram|os)$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'wires-below-roles', severity: 'error', comment: 'Wires move bytes: they import no backend, pool, worker, master, CLI or HTTP code.',
      from: { path: '^src/wires/' },
      to: { path: '^src/(worker|master|cli|http|backends|pools)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'http-not-cli', severity: 'error', comment: 'The status server is used by the CLI, never the other way.',
      from: { path: '^src/http/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'only-cli-reads-argv', severity: 'error', comment: 'src/cli is the top: nothing below imports it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'pools-and-backends-below-cli', severity: 'error', comment: 'Pools and backends are started by the CLI, and know nothing of it or of the master.',
      from: { path: '^src/(pools|backends)/' },
      to: { path: '^src/(cli|master|http)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'worker-below-backends', severity: 'error', comment: 'The worker runs tasks whatever started it: it knows no backend, pool, master or CLI.',
      from: { path: '^src/worker/' },
      to: { path: '^src/(backends|pools|master|cli|http)/' },
    },
    {
      name: 'storage-below-roles', severity: 'error', comment: 'Storage knows files, not who uses them.',
      from: { path: '^src/storage/' },
      to: { path: '^src/(worker|master|cli|http|balancer)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'master-worker-apart', severity: 'error', comment: 'Master and worker meet only through the contract.',
      from: { path: '^src/(master|worker)/' },
      to: { path: '^src/(master|worker)/', pathNot: '^src/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js'] },
  },
};
