// Inputs and outputs in S3-compatible object storage: `s3://bucket/key` names an object, `s3://bucket/prefix/*.txt`
// a glob of them (listed by prefix, matched by picomatch), read by byte ranges as a file is read by
// offsets, so a large object is split like a large file. Through @aws-sdk/client-s3, loaded only
// when an s3:// input is used; the endpoint from AWS_ENDPOINT_URL_S3 (mr run --s3-endpoint sets
// it), credentials and region the SDK's standard way (AWS_ACCESS_KEY_ID, ~/.aws/...), path-style
// addressing (what S3-compatible servers take).
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import { InputNotFoundError, InputUnreadableError, UsageError, oneLine } from '../errors.ts';
import type { PendingUpload } from '../wires/messages.ts';
import { failpoint } from '../failpoints.ts';

export const OBJECT_SCHEME = 's3://';

export function isObjectUrl(path: string): boolean {
  return path.startsWith(OBJECT_SCHEME);
}

export interface ObjectUrl {
  bucket: string;
  key: string;
}

export function parseObjectUrl(url: string): ObjectUrl {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(url);
  if (!match) throw new UsageError(`${url} is not an object URL like s3://bucket/key (a bucket name of 3 to 63 lower-case letters, digits, dots and dashes)`);
  return { bucket: match[1], key: match[2] };
}

export interface ObjectInfo {
  url: string;
  sizeBytes: number;
  mtimeMs: number;
}

type Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Sdk | undefined;
let shared: S3Client | undefined;

function s3(): { sdk: Sdk; client: S3Client } {
  // The pinned SDK runs on Node 20; its warning that later releases will not would be a second
  // line on every error (package.json pins the version that works here).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  sdk ??= createRequire(import.meta.url)('@aws-sdk/client-s3') as Sdk;
  shared ??= new sdk.S3Client({
    forcePathStyle: true,
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(process.env.AWS_ENDPOINT_URL_S3 ? { endpoint: process.env.AWS_ENDPOINT_URL_S3 } : {}),
    // Since 3.729 the SDK sends CRC32 checksums by default, which some S3-compatible stores refuse.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { sdk, client: shared };
}

/** What the store said, in one line that names the object and what to check. */
function storeError(url: string, error: unknown): Error {
  const name = (error as { name?: string }).name ?? '';
  if (name === 'NoSuchKey' || name === 'NotFound') return new InputNotFoundError(`input ${url} does not exist`);
  if (name === 'NoSuchBucket') return new InputNotFoundError(`input ${url}: no bucket ${parseObjectUrl(url).bucket} at ${process.env.AWS_ENDPOINT_URL_S3 ?? 'the AWS S3 endpoint'}`);
  if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'CredentialsProviderError') {
    return new InputUnreadableError(`cannot read ${url}: ${name}; give credentials as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials)`);
  }
  return new InputUnreadableError(`cannot read ${url} from ${process.env.AWS_ENDPOINT_URL_S3 ?? 'S3'}: ${oneLine(error)}`);
}

/** The objects a glob names (s3://bucket/prefix/*.txt, or one object's URL), sorted; none is an empty list. */
export async function listObjects(glob: string): Promise<ObjectInfo[]> {
  const { bucket, key } = parseObjectUrl(glob);
  const { default: picomatch } = await import('picomatch');
  const firstMagic = key.search(/[*?[\]{}()!+@]/);
  const prefix = firstMagic < 0 ? key : key.slice(0, firstMagic);
  const matches = firstMagic < 0 ? (name: string) => name === key : picomatch(key, { dot: false });
  const { sdk: s, client } = s3();
  const found: ObjectInfo[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new s.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const item of page.Contents ?? []) {
        if (item.Key && !item.Key.endsWith('/') && matches(item.Key)) {
          found.push({ url: `${OBJECT_SCHEME}${bucket}/${item.Key}`, sizeBytes: item.Size ?? 0, mtimeMs: item.LastModified?.getTime() ?? 0 });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw storeError(glob, error);
  }
  return found.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

export async function statObject(url: string): Promise<ObjectInfo> {
  const { bucket, key } = parseObjectUrl(url);
  const { sdk: s, client } = s3();
  try {
    const head = await client.send(new s.HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { url, sizeBytes: head.ContentLength ?? 0, mtimeMs: head.LastModified?.getTime() ?? 0 };
  } catch (error) {
    throw storeError(url, error);
  }
}

/** An object read as a file is: its size, and bytes from a position (one ranged GET a read). */
export async function openObject(url: string): Promise<{ size: number; read(into: Buffer, position: number): Promise<number>; close(): void }> {
  const { sizeBytes: size } = await statObject(url);
  const { bucket, key } = parseObjectUrl(url);
  const { sdk: s, client } = s3();
  return {
    size,
    async read(into, position) {
      if (position >= size || into.length === 0) return 0;
      const last = Math.min(size, position + into.length) - 1;
      try {
        const reply = await client.send(new s.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${position}-${last}` }));
        const bytes = await reply.Body!.transformToByteArray();
        into.set(bytes.subarray(0, into.length));
        return Math.min(bytes.length, into.length);
      } catch (error) {
        throw storeError(url, error);
      }
    },
    close() {},
  };
}

/** A part is sent in pieces of this size (S3 wants at least 5 MiB for every piece but the last). */
const UPLOAD_PIECE_BYTES = 8 << 20;

/** `s3://bucket/prefix/` and a name in it. */
export function objectIn(dirUrl: string, name: string): string {
  return `${dirUrl.replace(/\/+$/, '')}/${name}`;
}

function writeError(url: string, error: unknown): Error {
  return new Error(`cannot write ${url} to ${process.env.AWS_ENDPOINT_URL_S3 ?? 'S3'}: ${oneLine(error)}`);
}

/**
 * Uploads a local file as a multipart upload of `url`, and does not complete it: the object stays
 * invisible until completeUpload (by the master, at the stage's commit, for one attempt only).
 */
export async function uploadPending(url: string, path: string): Promise<PendingUpload> {
  const { bucket, key } = parseObjectUrl(url);
  const { sdk: s, client } = s3();
  const { open } = await import('node:fs/promises');
  try {
    const created = await client.send(new s.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const uploadId = created.UploadId!;
    const parts: PendingUpload['parts'] = [];
    const file = await open(path, 'r');
    try {
      const size = (await file.stat()).size;
      for (let at = 0, number = 1; at < size || number === 1; at += UPLOAD_PIECE_BYTES, number++) {
        const piece = Buffer.alloc(Math.min(UPLOAD_PIECE_BYTES, size - at));
        if (piece.length > 0) await file.read(piece, 0, piece.length, at);
        const sent = await client.send(new s.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: piece }));
        parts.push({ number, etag: sent.ETag ?? '' });
        failpoint('worker.reduce.mid-upload');
      }
    } finally {
      await file.close();
    }
    return { url, uploadId, parts };
  } catch (error) {
    throw writeError(url, error);
  }
}

/** Makes the upload's object visible, whole (the commit of a reducer's part). */
export async function completeUpload(pending: PendingUpload): Promise<void> {
  const { bucket, key } = parseObjectUrl(pending.url);
  const { sdk: s, client } = s3();
  try {
    await client.send(new s.CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId: pending.uploadId,
      MultipartUpload: { Parts: pending.parts.map((p) => ({ PartNumber: p.number, ETag: p.etag })) },
    }));
  } catch (error) {
    throw writeError(pending.url, error);
  }
}

/** An upload no one will complete (a losing or failed attempt's): dropped if the store can (some cannot: it stays invisible). */
export async function abortUpload(pending: PendingUpload): Promise<void> {
  const { bucket, key } = parseObjectUrl(pending.url);
  const { sdk: s, client } = s3();
  await client.send(new s.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: pending.uploadId })).catch(() => undefined);
}

/** Copies an object within the store (a chain's last parts to the top of its output). */
export async function copyObject(from: string, to: string): Promise<void> {
  const source = parseObjectUrl(from);
  const { bucket, key } = parseObjectUrl(to);
  const { sdk: s, client } = s3();
  try {
    await client.send(new s.CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}` }));
  } catch (error) {
    throw writeError(to, error);
  }
}

/** Writes an empty object (a stage's _SUCCESS). */
export async function putEmpty(url: string): Promise<void> {
  await putObject(url, '');
}

/** Writes an object whole, visible only once complete (a PUT is atomic). */
export async function putObject(url: string, body: Buffer | string): Promise<void> {
  const { bucket, key } = parseObjectUrl(url);
  const { sdk: s, client } = s3();
  try {
    await client.send(new s.PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } catch (error) {
    throw writeError(url, error);
  }
}

/** Deletes the objects whose keys begin with the URL's key (`s3://b/p/` a folder, `s3://b/p/x.` a family), a page at a time. */
export async function deletePrefix(url: string): Promise<void> {
  const { bucket, key } = parseObjectUrl(url);
  const { sdk: s, client } = s3();
  for (;;) {
    const page = await client.send(new s.ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    const keys = (page.Contents ?? []).map((item) => item.Key!);
    if (keys.length === 0) return;
    // One DeleteObject each (a few per map task): no batch request, whose checksum some stores refuse.
    await Promise.all(keys.map((k) => client.send(new s.DeleteObjectCommand({ Bucket: bucket, Key: k }))));
  }
}

/** Whether any object lies under the prefix (an output must be new or empty). */
export async function prefixHasObjects(dirUrl: string): Promise<boolean> {
  const { bucket, key } = parseObjectUrl(objectIn(dirUrl, ''));
  const { sdk: s, client } = s3();
  try {
    // One page (no MaxKeys: s3rver fails a V2 listing that gives one).
    const page = await client.send(new s.ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    return (page.Contents?.length ?? 0) > 0;
  } catch (error) {
    throw storeError(dirUrl, error);
  }
}
