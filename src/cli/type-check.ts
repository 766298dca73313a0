// The TypeScript compiler run over job files, for `mr check` and `mr run --typecheck`. `mr`
// resolves to this package's sources, so a job type-checks wherever it lies, without a
// package.json or node_modules beside it. typescript is loaded only here, when asked.
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { IMPORT_NAMES } from '../config.ts';

export interface Diagnostic {
  file?: string;                 // undefined for a problem with no file (an option, say)
  line: number;                  // 1-based
  column: number;                // 1-based
  message: string;               // one line
}

export async function typeCheck(files: readonly string[], mrEntry: string): Promise<Diagnostic[]> {
  const ts = (await import('typescript')).default;
  // @types/node comes with this package: a job may use node: modules.
  const typeRoots = [dirname(dirname(createRequire(import.meta.url).resolve('@types/node/package.json')))];
  const options: import('typescript').CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true, noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true, allowJs: true, checkJs: false,
    resolveJsonModule: true, esModuleInterop: true, types: ['node'], typeRoots,
  };
  const host = ts.createCompilerHost(options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, compilerOptions) => literals.map((literal) => {
    const ours = IMPORT_NAMES.includes(literal.text);
    const name = ours ? mrEntry : literal.text;
    const from = ours ? mrEntry : containingFile;
    return ts.resolveModuleName(name, from, compilerOptions, host, undefined, redirected);
  });
  const program = ts.createProgram({ rootNames: [...files], options, host });
  const mrDir = dirname(mrEntry);
  const own = (file: import('typescript').SourceFile) => !file.isDeclarationFile && !file.fileName.startsWith(`${mrDir}/`);
  const found = [
    ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(),
    ...program.getSourceFiles().filter(own).flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ];
  return found.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/\s+/g, ' ');
    if (!d.file || d.start === undefined) return { line: 0, column: 0, message };
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return { file: d.file.fileName, line: line + 1, column: character + 1, message };
  });
}
