// Module resolve hook for job modules:
// - `import ... from 'mr'` (or the package's name, mr-mapreduce) resolves to this package wherever the job file lies;
// - a .ts/.mts/.js file outside node_modules loads as an ES module even when no package.json
//   says "type": "module" (only an explicit "type": "commonjs" keeps CommonJS).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = new URL('../src/index.ts', import.meta.url).href;
// 'mr' and the package's own name (as src/config.ts's IMPORT_NAMES)
const names = new Set(['mr', JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).name]);
const declaredType = new Map();

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(names.has(specifier) ? entry : specifier, context);
  if (resolved.format === 'commonjs' && isUserModule(resolved.url) && packageType(dirname(fileURLToPath(resolved.url))) !== 'commonjs') {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}

function isUserModule(url) {
  return url.startsWith('file:') && !url.includes('/node_modules/') && /\.(ts|mts|js)(\?.*)?$/.test(url);
}

/** The "type" of the nearest package.json above dir, or undefined. */
function packageType(dir) {
  if (declaredType.has(dir)) return declaredType.get(dir);
  let type;
  try {
    type = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type ?? 'none';
  } catch {
    const parent = dirname(dir);
    type = parent === dir ? undefined : packageType(parent);
  }
  declaredType.set(dir, type);
  return type;
}
