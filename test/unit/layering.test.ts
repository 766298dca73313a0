// The layering of src/ (.dependency-cruiser.cjs): imports point one way, core is pure, no cycles.
// The rules run on the real tree, and on a small tree that breaks them, which they must catch.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/run-mr.ts';

const run = promisify(execFile);
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

interface Violation { rule: { name: string }; from: string; to: string }

/** The rule violations in the given folders, as dependency-cruiser reports them. */
async function violations(folders: string[], cwd = ROOT): Promise<Violation[]> {
  const result = await run(DEPCRUISE, [...folders, '--config', CONFIG, '--output-type', 'json'], { cwd, maxBuffer: 64 << 20 }).catch((error) => error);
  if (!result.stdout) throw new Error(`dependency-cruiser printed nothing: ${result.stderr ?? result.message}`);
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const broken = join(tmpdir(), `mr-layering-probe-${process.pid}`);

afterAll(async () => {
  await rm(broken, { recursive: true, force: true });
});

describe('layering', () => {
  it('src/ keeps every rule', async () => {
    expect((await violations(['src'])).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 60_000);

  it('the rules catch a core that imports the CLI, a wire that imports the worker, and a cycle', async () => {
    const file = (path: string, text: string) => mkdir(join(broken, 'src', path, '..'), { recursive: true }).then(() => writeFile(join(broken, 'src', path), text));
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', allowImportingTsExtensions: true, noEmit: true } }));
    await file('cli/main.ts', "export const main = 1;\n");
    await file('worker/worker.ts', "export const worker = 1;\n");
    await file('core/pure.ts', "import { main } from '../cli/main.ts';\nexport const pure = main;\n");
    await file('wires/wire.ts', "import { worker } from '../worker/worker.ts';\nexport const wire = worker;\n");
    await file('core/a.ts', "import { b } from './b.ts';\nexport const a = () => b;\n");
    await file('core/b.ts', "import { a } from './a.ts';\nexport const b = () => a;\n");
    const rules = new Set((await violations(['src'], broken)).map((v) => v.rule.name));
    expect([...rules].sort()).toEqual(expect.arrayContaining(['core-is-pure', 'no-cycles', 'only-cli-reads-argv', 'wires-below-roles']));
  }, 60_000);
});
