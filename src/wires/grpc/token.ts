// The shared secret on every RPC: sent as `authorization: Bearer <token>` metadata, compared
// in constant time, never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata, MetadataValue } from '@grpc/grpc-js';
import { grpcJs } from './grpc-js.ts';

export function bearer(token: string | undefined): Metadata {
  const metadata = new (grpcJs().Metadata)();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export function tokenMatches(expected: string, header: MetadataValue | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(expected));
}
