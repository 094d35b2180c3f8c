/**
 * chacha20-poly1305@openssh.com, as specified by OpenSSH's PROTOCOL.chacha20poly1305 (now
 * draft-ietf-sshm-chacha20-poly1305). The 64-byte key is K_2 (first half: payload and Poly1305
 * key) || K_1 (second half: the length field only). The nonce is the sequence number as a uint64;
 * block 0 of K_2's stream gives the one-time Poly1305 key, the payload is encrypted from block 1,
 * and the tag covers the encrypted length and payload together. The length gets its own key so it
 * can be decrypted before the tag is checked without creating an oracle for the payload.
 */
import type { CryptoProvider } from '../crypto/provider.ts';
import { constantTimeEqual } from './ct.ts';
import type { PacketKeys, PacketOpener, PacketSealer } from './types.ts';
import { readU32, writeU32 } from './util.ts';

const TAG = 16;
const ZERO32 = new Uint8Array(32);

class ChaChaPolyState {
  protected readonly mainKey: Uint8Array;
  protected readonly headerKey: Uint8Array;
  private readonly nonceBuf = new Uint8Array(8);
  readonly blockSize = 8;
  readonly lengthExcludedFromPadding = true;
  readonly macLength = TAG;

  constructor(protected readonly crypto: CryptoProvider, keys: PacketKeys) {
    if (keys.key.length < 64) throw new RangeError('chacha20-poly1305 needs a 64-byte key');
    // Copies, never views (a Node buffer's slice would be one): the caller may wipe its key material.
    this.mainKey = new Uint8Array(keys.key.subarray(0, 32));
    this.headerKey = new Uint8Array(keys.key.subarray(32, 64));
  }

  /** uint64 sequence number; SSH sequence numbers are uint32, so the top half stays zero. */
  protected nonce(seq: number): Uint8Array {
    writeU32(this.nonceBuf, 4, seq >>> 0);
    return this.nonceBuf;
  }
}

export class ChaChaPolySealer extends ChaChaPolyState implements PacketSealer {
  seal(seq: number, plain: Uint8Array): Uint8Array {
    const c = this.crypto;
    const nonce = this.nonce(seq);
    const n = plain.length;
    const out = new Uint8Array(n + TAG);
    out.set(c.chacha20(this.headerKey, nonce, 0, plain.subarray(0, 4)), 0);
    out.set(c.chacha20(this.mainKey, nonce, 1, plain.subarray(4)), 4);
    const polyKey = c.chacha20(this.mainKey, nonce, 0, ZERO32);
    out.set(c.poly1305(polyKey, out.subarray(0, n)), n);
    return out;
  }
}

export class ChaChaPolyOpener extends ChaChaPolyState implements PacketOpener {
  readonly lengthBytes = 4;

  decryptLength(seq: number, head: Uint8Array): number {
    if (head.length < 4) return -1;
    try {
      return readU32(this.crypto.chacha20(this.headerKey, this.nonce(seq), 0, head.subarray(0, 4)), 0);
    } catch {
      return -1;
    }
  }

  open(seq: number, wire: Uint8Array): Uint8Array | null {
    const n = wire.length - TAG;
    if (n < 4) return null;
    try {
      const c = this.crypto;
      const nonce = this.nonce(seq);
      const polyKey = c.chacha20(this.mainKey, nonce, 0, ZERO32);
      // Tag first: nothing of the payload is decrypted until it is authenticated.
      if (!constantTimeEqual(c.poly1305(polyKey, wire.subarray(0, n)), wire.subarray(n))) return null;
      const out = new Uint8Array(n);
      out.set(c.chacha20(this.headerKey, nonce, 0, wire.subarray(0, 4)), 0);
      out.set(c.chacha20(this.mainKey, nonce, 1, wire.subarray(4, n)), 4);
      return out;
    } catch {
      return null;
    }
  }
}
