// Module resolve hook: a job module may `import { defineJob } from 'mr'` wherever it lies,
// with or without a package.json or node_modules beside it.
const entry = new URL('../src/index.ts', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'mr') return { url: entry, shortCircuit: true };
  return nextResolve(specifier, context);
}
