// Finds or generates the benchmark corpus. It is cached outside the repository (MR_BENCH_CACHE or
// the OS temp dir) because it is large, slow to make, and must never be committed.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureReason, isSuccess, runChild } from './child-run.ts';
import { REPO_ROOT, progress } from './progress.ts';

export const CORPUS_SEED = 1;
const MIB = 1024 * 1024;
// The generator may stop at a line boundary, so "the right size" allows a little slack.
const SIZE_TOLERANCE = 0.02;

export function corpusCacheDir(): string {
  return process.env.MR_BENCH_CACHE || join(tmpdir(), 'mr-bench-cache');
}

function hasRightSize(file: string, mib: number): boolean {
  if (!existsSync(file)) return false;
  const bytes = statSync(file).size;
  return Math.abs(bytes - mib * MIB) <= mib * MIB * SIZE_TOLERANCE;
}

/** The corpus's vocabulary: real English's size (the figures of record) or four times it (adversarial). */
export type Vocabulary = 'realistic' | 'large';

/** Returns the path of a corpus of about `mib` MiB, generating it with datasets/make-corpus.ts if not cached. */
export async function ensureCorpus(mib: number, vocab: Vocabulary = 'realistic'): Promise<string> {
  const dir = corpusCacheDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `corpus-${mib}mib-seed${CORPUS_SEED}-${vocab}.txt`);
  if (hasRightSize(file, mib)) {
    progress(`corpus: reusing ${file}`);
    return file;
  }
  const script = join(REPO_ROOT, 'datasets', 'make-corpus.ts');
  if (!existsSync(script)) {
    throw new Error(`${script} does not exist, so the corpus cannot be generated; pass --corpus <file> to use your own`);
  }
  // Generate under a temporary name, so an interrupted run never leaves a truncated corpus to reuse.
  const partial = `${file}.partial-${process.pid}`;
  progress(`corpus: generating ${mib} MiB into ${file}`);
  const options = { cwd: REPO_ROOT, timeoutMs: (60 + mib * 10) * 1000 };
  const args = [join(REPO_ROOT, 'bin', 'tsx.mjs'), script, '--mib', String(mib), '--out', partial, '--seed', String(CORPUS_SEED), '--vocab', vocab];
  const run = await runChild(process.execPath, args, options);
  if (!isSuccess(run) || !existsSync(partial)) {
    rmSync(partial, { force: true });
    throw new Error(`make-corpus failed (${failureReason(run, options)}):\n${run.stderrTail}`);
  }
  renameSync(partial, file);
  if (!hasRightSize(file, mib)) {
    progress(`corpus: warning: ${file} has ${statSync(file).size} bytes, not about ${mib * MIB}; it will be regenerated next time`);
  }
  progress(`corpus: generated in ${run.seconds.toFixed(1)} s`);
  return file;
}
