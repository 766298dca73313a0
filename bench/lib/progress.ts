// Progress lines for the benchmark: stderr only, so stdout keeps just the final report.
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file so the bench runs from any working directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
