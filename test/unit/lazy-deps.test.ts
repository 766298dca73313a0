// Every process of every backend registers all the backends: a library only one backend needs
// (etcd3, for ssi) must load only when that backend uses it, not with the registry. A fresh
// process imports the registry and says which of those libraries it loaded.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/run-mr.ts';

describe('backend libraries load when used', () => {
  it('reading files does not load the AWS SDK; only an s3:// input does', () => {
    const probe = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/@aws-sdk/'));
      await import('./src/backends/index.ts');
      await import('./src/storage/line-reader.ts');
      await import('./src/cli/input-files.ts');
      console.log(JSON.stringify({ loaded: loaded() }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ loaded: false });
  });

  it('importing the backends does not load etcd3; the ssi cluster state does, at its first call to etcd', () => {
    const probe = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/etcd3/'));
      await import('./src/backends/index.ts');
      const before = loaded();
      const { ClusterState } = await import('./src/backends/ssi/cluster-state.ts');
      const state = new ClusterState(['http://127.0.0.1:1'], 'probe');
      const made = loaded();
      state.readProcesses().catch(() => {});
      const after = loaded();
      await state.close();
      console.log(JSON.stringify({ before, made, after }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, made: false, after: true });
  });
});
