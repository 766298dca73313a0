// Finite bandwidth as a token bucket of bytes: tokens flow in at the link's rate up to a small
// burst; a message takes as many tokens as it has bytes, going into debt if it must, and waits
// until the debt is paid. Messages sent together thus queue behind each other, as on a real link.
// Pure: the time comes in as an argument.

export interface Bucket {
  tokens: number;                // bytes that may leave at once; negative: a debt the next message waits out
  atMs: number;                  // when tokens was last brought up to date
}

export function fullBucket(burstBytes: number, nowMs: number): Bucket {
  return { tokens: burstBytes, atMs: nowMs };
}

/** How many bytes may leave at once: 50 ms of the rate, and at least 16 KiB so that a lone control message never waits. */
export function burstBytesOf(bytesPerSec: number): number {
  return Math.max(16 * 1024, Math.round(bytesPerSec * 0.05));
}

/** Takes `bytes` from the bucket at nowMs; waitMs is how long the message must wait before it may leave. */
export function takeBytes(bucket: Bucket, bytes: number, nowMs: number, bytesPerSec: number, burstBytes: number): { bucket: Bucket; waitMs: number } {
  const elapsedMs = Math.max(0, nowMs - bucket.atMs);
  const tokens = Math.min(burstBytes, bucket.tokens + (elapsedMs * bytesPerSec) / 1000) - bytes;
  const waitMs = tokens < 0 ? Math.ceil((-tokens * 1000) / bytesPerSec) : 0;
  return { bucket: { tokens, atMs: Math.max(nowMs, bucket.atMs) }, waitMs };
}
