// npm run test:reliability: every case of test/reliability (MR_RELIABILITY=full), then the summary:
// cases run, passed, failed, skipped, and the records lost, duplicated or changed over all of them
// (all must be 0). Written as JSON to test/reliability/results/latest.json (or --out <file>), and
// as a Markdown table beside it (.md). Exit status: vitest's, or 1 when a record was lost.
//   npm run test:reliability [-- --out file.json] [-- <vitest filter>]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Area, CaseRecord } from './harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = resolve(outAt >= 0 ? args[outAt + 1]! : join(ROOT, 'test', 'reliability', 'results', 'latest.json'));
const filters = args.filter((_, i) => i !== outAt && i !== outAt + 1);

const resultsDir = await mkdtemp(join(tmpdir(), 'mr-reliability-'));
const started = Date.now();
const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const code = await new Promise<number>((resolveCode) => {
  const child = spawn(process.execPath, [vitest, 'run', 'test/reliability', ...filters], {
    cwd: ROOT, stdio: 'inherit', env: { ...process.env, MR_RELIABILITY: 'full', MR_RELIABILITY_RESULTS: resultsDir },
  });
  child.on('close', (status) => resolveCode(status ?? 1));
});
const elapsedMs = Date.now() - started;

const cases: CaseRecord[] = [];
for (const name of (await readdir(resultsDir)).sort()) {
  for (const line of (await readFile(join(resultsDir, name), 'utf8')).split('\n')) if (line) cases.push(JSON.parse(line));
}
await rm(resultsDir, { recursive: true, force: true });
const areas: Area[] = ['network', 'process', 'load', 'bad input', 'security'];
cases.sort((a, b) => areas.indexOf(a.area) - areas.indexOf(b.area) || a.name.localeCompare(b.name));

const sum = (list: CaseRecord[], key: 'lost' | 'duplicated' | 'changed' | 'outputsChecked') => list.reduce((n, c) => n + (c[key] ?? 0), 0);
function totals(list: CaseRecord[]) {
  const ran = list.filter((c) => c.skipped === undefined);
  return {
    cases: list.length, ran: ran.length, passed: ran.filter((c) => c.passed).length, failed: ran.filter((c) => !c.passed).length,
    skipped: list.length - ran.length, outputsChecked: sum(ran, 'outputsChecked'),
    lost: sum(ran, 'lost'), duplicated: sum(ran, 'duplicated'), changed: sum(ran, 'changed'),
  };
}
let commit = 'unknown';
try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a clone */ }
const summary = {
  date: new Date().toISOString(), commit, elapsedMs, vitestExit: code,
  ...totals(cases),
  areas: Object.fromEntries(areas.map((area) => [area, totals(cases.filter((c) => c.area === area))])),
  cases,
};

const rows = areas.map((area) => {
  const t = summary.areas[area]!;
  return `| ${area} | ${t.ran} | ${t.passed} | ${t.failed} | ${t.skipped} | ${t.outputsChecked} | ${t.lost} | ${t.duplicated} | ${t.changed} |`;
});
const table = [
  '| area | cases run | passed | failed | skipped | outputs compared | records lost | duplicated | changed |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
  `| **all** | **${summary.ran}** | **${summary.passed}** | **${summary.failed}** | **${summary.skipped}** | **${summary.outputsChecked}** | **${summary.lost}** | **${summary.duplicated}** | **${summary.changed}** |`,
].join('\n');
const detail = cases.map((c) => `| ${c.area} | ${c.name} | ${c.skipped !== undefined ? `skipped: ${c.skipped}` : c.passed ? 'passed' : `FAILED: ${c.error ?? ''}`} | ${(c.ms / 1000).toFixed(1)} s |`);
const markdown = [
  `Reliability suite at ${commit}, ${summary.date.slice(0, 10)}: ${summary.ran} case(s) in ${(elapsedMs / 60000).toFixed(1)} min.`,
  '', table, '', '| area | case | outcome | time |', '|---|---|---|---:|', ...detail, '',
].join('\n');

await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(summary, null, 2)}\n`);
await writeFile(out.replace(/\.json$/, '') + '.md', markdown);
console.log(`\n${table}\n\nsummary: ${out}`);
const lostAny = summary.lost + summary.duplicated + summary.changed > 0;
process.exit(code !== 0 ? code : lostAny ? 1 : 0);
