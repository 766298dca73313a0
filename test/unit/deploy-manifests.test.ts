// The Kubernetes manifests in deploy/kubernetes, checked offline (there is no cluster here):
// every document against the Kubernetes 1.27 schemas (kubernetes-models' validators), and every
// field a known one: each document is type-checked as an object literal of the model's type, so
// that a misspelt or misplaced field (which the schemas let through) is an error. The container
// arguments are checked against what the mr commands accept, and the kustomization against the files.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/run-mr.ts';

const DIR = join(ROOT, 'deploy', 'kubernetes');
const require = createRequire(import.meta.url);

/** apiVersion/kind -> the kubernetes-models module and its interface. */
const MODELS: Record<string, [module: string, type: string]> = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'INamespace'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'v1/PersistentVolumeClaim': ['kubernetes-models/v1/PersistentVolumeClaim', 'IPersistentVolumeClaim'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'apps/v1/StatefulSet': ['kubernetes-models/apps/v1/StatefulSet', 'IStatefulSet'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'IHorizontalPodAutoscaler'],
};

interface Doc {
  file: string;
  index: number;
  value: { apiVersion: string; kind: string; metadata?: { name?: string }; [key: string]: unknown };
}

function documents(): Doc[] {
  const docs: Doc[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const [index, doc] of parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).entries()) {
      expect(doc.errors, `${file} #${index}`).toEqual([]);
      docs.push({ file, index, value: doc.toJS() });
    }
  }
  return docs;
}

const docs = documents();
const name = (d: Doc) => `${d.file} #${d.index} (${d.value.kind} ${d.value.metadata?.name ?? ''})`;

describe('deploy/kubernetes', () => {
  it('holds the master, the workers, their services, the token, the data volume and the autoscaler', () => {
    expect(docs.map((d) => `${d.value.kind}/${d.value.metadata?.name}`).sort()).toEqual([
      'Deployment/mr-worker', 'HorizontalPodAutoscaler/mr-worker', 'Namespace/mr', 'PersistentVolumeClaim/mr-data', 'Secret/mr-token',
      'Service/mr-master', 'Service/mr-master-headless', 'StatefulSet/mr-master',
    ]);
  });

  it.each(docs.map((d) => [name(d), d] as const))('%s is valid against the Kubernetes schemas', (_, doc) => {
    const model = MODELS[`${doc.value.apiVersion}/${doc.value.kind}`];
    expect(model, `no model for ${doc.value.apiVersion} ${doc.value.kind}`).toBeDefined();
    const Model = require(model[0])[model[1].slice(1)] as new (data: unknown) => { validate(): void };
    expect(() => new Model(doc.value).validate()).not.toThrow();
  });

  it('has no field the Kubernetes types do not know (each document type-checked as its model)', () => {
    const files = new Map(docs.map((d, i) => {
      const [module, type] = MODELS[`${d.value.apiVersion}/${d.value.kind}`];
      return [join(ROOT, `__manifest_${i}.ts`), `import type { ${type} } from '${module}';\nexport const manifest: ${type} = ${JSON.stringify(d.value, null, 1)};\n`];
    }));
    const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    const exists = host.fileExists.bind(host);
    host.readFile = (path) => files.get(path) ?? read(path);
    host.fileExists = (path) => files.has(path) || exists(path);
    const getSource = host.getSourceFile.bind(host);
    host.getSourceFile = (path, language) => (files.has(path) ? ts.createSourceFile(path, files.get(path)!, language) : getSource(path, language));
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? [...files.keys()].indexOf(d.file.fileName) : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    expect(problems).toEqual([]);
  });

  it('says no more about a misspelt field than the types do: the check fails on one', () => {
    // The check above must be able to fail: the same compile of a Deployment with a misspelt probe.
    const source = `import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';\nexport const m: IDeployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'c', livenesProbe: {} }] } } } };\n`;
    const path = join(ROOT, '__manifest_bad.ts');
    const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    const getSource = host.getSourceFile.bind(host);
    host.readFile = (p) => (p === path ? source : read(p));
    host.getSourceFile = (p, language) => (p === path ? ts.createSourceFile(p, source, language) : getSource(p, language));
    const program = ts.createProgram([path], options, host);
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('\n')).toMatch(/livenesProbe/);
  });

  it('gives the mr commands only options they take', () => {
    const main = readFileSync(join(ROOT, 'src', 'cli', 'main.ts'), 'utf8');
    for (const doc of docs.filter((d) => d.value.kind === 'Deployment' || d.value.kind === 'StatefulSet')) {
      const containers = (doc.value.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers;
      for (const { args } of containers) {
        const [command, ...rest] = args;
        const section = main.slice(main.indexOf(`.command('${command}'`), main.indexOf('.command(', main.indexOf(`.command('${command}'`) + 10));
        for (const flag of rest.filter((a) => a.startsWith('--'))) {
          const option = flag.slice(2);
          const known = section.includes(`'${option}'`) || (['token-file'].includes(option) && section.includes('tokenOptions'));
          expect(known, `${name(doc)}: mr ${command} ${flag}`).toBe(true);
        }
      }
    }
  });

  it('lists every manifest in its kustomization', () => {
    const kustomization = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0].toJS() as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort());
  });
});
