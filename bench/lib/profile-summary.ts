// Summarises .cpuprofile files (from `node --cpu-prof`): self time by function and by file.
// Usage: node bin/tsx.mjs bench/lib/profile-summary.ts <file.cpuprofile>... [--top 25]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileSummary { totalMs: number; byFunction: [string, number][]; byFile: [string, number][] }

/** Self time per function and per file, in ms, largest first. */
export function summariseProfile(profile: Profile): ProfileSummary {
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? url.replace(/^.*\/(src|node_modules|jobs|bench)\//, '$1/') : '(native)';
    const name = `${functionName || '(anonymous)'} ${file ? `${basename(file)}:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us / 1000);
    byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: (profile.endTime - profile.startTime) / 1000, byFunction: sorted(byFunction), byFile: sorted(byFile) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  for (const file of args) {
    const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    console.log(`\n== ${basename(file)}: ${summary.totalMs.toFixed(0)} ms`);
    for (const [name, ms] of summary.byFunction.slice(0, top)) console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
    console.log('  -- by file');
    for (const [name, ms] of summary.byFile.slice(0, 12)) console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
  }
}
