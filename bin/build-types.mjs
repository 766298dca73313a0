#!/usr/bin/env node
// Emits types/: the declarations of what src/index.ts exports (defineJob and the job types), that
// package.json's "types" points at, so a user's tsc and editor find them. The .ts sources cannot
// serve: they import with .ts extensions, which a user's tsconfig rarely allows.
// Run by `npm test`, `npm start` and npm's prepare.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}types`;
const options = {
  declaration: true, emitDeclarationOnly: true, allowImportingTsExtensions: true, strict: true, skipLibCheck: true,
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: [], outDir, rootDir: `${root}src`,
};
rmSync(outDir, { recursive: true, force: true });
const program = ts.createProgram([`${root}src/index.ts`], options);
const { diagnostics } = program.emit(undefined, undefined, undefined, true);
const problems = [...ts.getPreEmitDiagnostics(program), ...diagnostics];
if (problems.length > 0) {
  process.stderr.write(ts.formatDiagnostics(problems, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
  process.exit(1);
}
