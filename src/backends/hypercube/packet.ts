// A message on the hypercube's links: a fixed header, the method name (requests), then the
// payload (a protobuf-encoded request or reply, a chunk of a stream, an error). Its size on a link
// is its whole length, header included. Little-endian:
//   0 kind u8 | 1 flags u8 | 2 src u16 | 4 dst u16 | 6 hops u8 | 7 method length u8 |
//   8 call id u32 | 12 seq u32 (its number at its source: with src, its name on the timeline) |
//   16 order u32 (a request: its number among its sender's requests; an answer: its place among
//   the request's answers) | 20 method | payload

export const enum Kind { Request = 1, Reply = 2, Error = 3, Chunk = 4, End = 5, Cancel = 6, Credit = 7 }

export const FLAG = {
  shuffle: 1,          // a fetch of map output: its request, chunks, end, cancel, credits
  retransmission: 2,   // a request sent again after its earlier try failed
  toMaster: 4,         // a request for the master (on node 0), not for the node's worker
  untimed: 8,          // outside the simulated clock: heartbeats (they follow real seconds), cancels
} as const;

export const HEADER_BYTES = 20;
const SEQ = 12;
const ORDER = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface Packet {
  kind: Kind;
  flags: number;
  src: number;
  dst: number;
  hops: number;
  callId: number;
  seq: number;
  order: number;
  method: string;
  payload: Uint8Array;
}

export function encodePacket(p: Omit<Packet, 'hops'>): Uint8Array {
  const name = encoder.encode(p.method);
  if (name.length > 255) throw new RangeError(`a method name has at most 255 bytes, got ${name.length}`);
  const bytes = new Uint8Array(HEADER_BYTES + name.length + p.payload.length);
  const view = new DataView(bytes.buffer);
  bytes[0] = p.kind;
  bytes[1] = p.flags;
  view.setUint16(2, p.src, true);
  view.setUint16(4, p.dst, true);
  bytes[6] = 0;
  bytes[7] = name.length;
  view.setUint32(8, p.callId, true);
  view.setUint32(SEQ, p.seq >>> 0, true);
  view.setUint32(ORDER, p.order >>> 0, true);
  bytes.set(name, HEADER_BYTES);
  bytes.set(p.payload, HEADER_BYTES + name.length);
  return bytes;
}

export function decodePacket(bytes: Uint8Array): Packet {
  const view = viewOf(bytes);
  const nameEnd = HEADER_BYTES + bytes[7];
  return {
    kind: bytes[0] as Kind, flags: bytes[1], src: view.getUint16(2, true), dst: view.getUint16(4, true), hops: bytes[6],
    callId: view.getUint32(8, true), seq: view.getUint32(SEQ, true), order: view.getUint32(ORDER, true),
    method: decoder.decode(bytes.subarray(HEADER_BYTES, nameEnd)), payload: bytes.subarray(nameEnd),
  };
}

/** What a router reads of a packet it forwards. */
export function destinationOf(bytes: Uint8Array): number {
  return viewOf(bytes).getUint16(4, true);
}

/** Its name on the timeline: its source and its number there. */
export function idOf(bytes: Uint8Array): number {
  const view = viewOf(bytes);
  return view.getUint16(2, true) * 2 ** 32 + view.getUint32(SEQ, true);
}

/** Done by each router: the packet crossed one more link. */
export function countHop(bytes: Uint8Array): void {
  bytes[6]++;
}

export function isTimed(bytes: Uint8Array): boolean {
  return (bytes[1] & FLAG.untimed) === 0;
}

export function isShuffle(bytes: Uint8Array): boolean {
  return (bytes[1] & FLAG.shuffle) !== 0;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
