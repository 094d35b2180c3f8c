/**
 * The "none" cipher and MAC (RFC 4253 section 6.3 and 6.4) in force before the first NEWKEYS:
 * packets go out as they are, aligned to 8 bytes including the length field.
 */
import type { PacketOpener, PacketSealer } from './types.ts';
import { readU32 } from './util.ts';

export function createNoneSealer(): PacketSealer {
  return {
    blockSize: 8,
    lengthExcludedFromPadding: false,
    macLength: 0,
    // A copy, so the caller may reuse its buffer whatever cipher is in force (new Uint8Array, since
    // a Node buffer's slice would not copy).
    seal: (_seq, plain) => new Uint8Array(plain),
  };
}

export function createNoneOpener(): PacketOpener {
  return {
    blockSize: 8,
    lengthExcludedFromPadding: false,
    macLength: 0,
    lengthBytes: 4,
    decryptLength: (_seq, head) => (head.length < 4 ? -1 : readU32(head, 0)),
    open: (_seq, wire) => new Uint8Array(wire),
  };
}
