// A real S3-compatible server for tests (s3rver, on a free port of the address given), its
// client, and what a prefix of its bucket holds.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../src/backends/ssi/etcd-member.ts';

// The pinned SDK runs on Node 20; its notice that later releases will not is noise here (as in mr: object-store.ts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** s3rver's own credentials, in the AWS SDK's environment variables: mr reads them as it would any. */
export const S3_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export interface TestStore {
  endpoint: string;
  bucket: string;
  client(): Promise<S3Client>;
  /** Puts each file under prefix, by its base name. */
  upload(prefix: string, files: string[]): Promise<void>;
  /** The objects under a prefix of the bucket, by name relative to it, with their text. */
  objectsUnder(prefix: string): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export async function startS3(directory: string, bucket: string, address = '127.0.0.1'): Promise<TestStore> {
  const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => { run(): Promise<unknown>; close(): Promise<void> };
  const port = await freePort();
  const server = new S3rver({ address, port, directory, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
  await server.run();
  const endpoint = `http://${address}:${port}`;
  const sdk = await import('@aws-sdk/client-s3');
  const client = async () => new sdk.S3Client({ endpoint, forcePathStyle: true, region: S3_ENV.AWS_REGION,
    credentials: { accessKeyId: S3_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: S3_ENV.AWS_SECRET_ACCESS_KEY } });
  return {
    endpoint, bucket, client,
    async upload(prefix, files) {
      const s3 = await client();
      for (const file of files) await s3.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: `${prefix}${file.split('/').pop()}`, Body: await readFile(file) }));
      s3.destroy();
    },
    async objectsUnder(prefix) {
      const s3 = await client();
      const found = new Map<string, string>();
      const listed = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      for (const item of listed.Contents ?? []) {
        const body = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: item.Key! }));
        found.set(item.Key!.slice(prefix.length), await body.Body!.transformToString());
      }
      s3.destroy();
      return found;
    },
    close: () => server.close(),
  };
}
