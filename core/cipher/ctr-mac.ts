/**
 * A stream cipher (AES-CTR, RFC 4344 section 4, or no cipher at all) with an HMAC (RFC 4253
 * section 6.4, RFC 6668), in either order:
 *  - classic: mac = MAC(key, uint32 seq || plaintext packet), everything including the length is
 *    encrypted, so the first cipher block must be decrypted to learn the length;
 *  - encrypt-then-MAC (OpenSSH PROTOCOL section 1.5): the length travels in the clear and
 *    mac = MAC(key, uint32 seq || packet_length || ciphertext), checked before any decryption.
 * The CTR keystream is one continuous stream per direction, so calls must follow packet order.
 */
import type { CryptoProvider, StreamCipher } from '../crypto/provider.ts';
import { constantTimeEqual } from './ct.ts';
import type { MacInfo, PacketOpener, PacketSealer } from './types.ts';
import { readU32, writeU32 } from './util.ts';

type MacFn = (parts: readonly Uint8Array[]) => Uint8Array;

class StreamMacState {
  protected readonly macFn: MacFn;
  private readonly seqBuf = new Uint8Array(4);
  readonly lengthExcludedFromPadding: boolean;
  readonly macLength: number;

  constructor(
    crypto: CryptoProvider,
    protected readonly cipher: StreamCipher | null,
    readonly blockSize: number,
    mac: MacInfo,
    macKey: Uint8Array,
  ) {
    this.macFn = crypto.createHmac(mac.hash, macKey);
    this.macLength = mac.macLength;
    this.lengthExcludedFromPadding = mac.etm;
  }

  protected seqBytes(seq: number): Uint8Array {
    writeU32(this.seqBuf, 0, seq >>> 0);
    return this.seqBuf;
  }
}

export class StreamMacSealer extends StreamMacState implements PacketSealer {
  seal(seq: number, plain: Uint8Array): Uint8Array {
    const n = plain.length;
    const out = new Uint8Array(n + this.macLength);
    if (this.lengthExcludedFromPadding) {
      out.set(plain.subarray(0, 4));
      const body = plain.subarray(4);
      out.set(this.cipher ? this.cipher.update(body) : body, 4);
      out.set(this.macFn([this.seqBytes(seq), out.subarray(0, n)]), n);
    } else {
      out.set(this.macFn([this.seqBytes(seq), plain]), n);
      out.set(this.cipher ? this.cipher.update(plain) : plain);
    }
    return out;
  }
}

export class StreamMacOpener extends StreamMacState implements PacketOpener {
  readonly lengthBytes: number;
  /** First cipher block decrypted by decryptLength (classic order), for the packet `pendingSeq`. */
  private pendingHead: Uint8Array | null = null;
  private pendingSeq = -1;

  constructor(crypto: CryptoProvider, cipher: StreamCipher | null, blockSize: number, mac: MacInfo, macKey: Uint8Array) {
    super(crypto, cipher, blockSize, mac, macKey);
    this.lengthBytes = cipher && !mac.etm ? blockSize : 4;
  }

  decryptLength(seq: number, head: Uint8Array): number {
    if (head.length < this.lengthBytes) return -1;
    if (this.lengthExcludedFromPadding || !this.cipher) return readU32(head, 0);
    try {
      // Asking twice for the same packet must not advance the keystream again.
      if (this.pendingHead === null || this.pendingSeq !== seq) {
        this.pendingHead = this.cipher.update(head.subarray(0, this.lengthBytes));
        this.pendingSeq = seq;
      }
      return readU32(this.pendingHead, 0);
    } catch {
      return -1;
    }
  }

  open(seq: number, wire: Uint8Array): Uint8Array | null {
    const n = wire.length - this.macLength;
    if (n < 4) return null;
    try {
      return this.lengthExcludedFromPadding ? this.openEtm(seq, wire, n) : this.openClassic(seq, wire, n);
    } catch {
      return null;
    }
  }

  private openEtm(seq: number, wire: Uint8Array, n: number): Uint8Array | null {
    if (!constantTimeEqual(this.macFn([this.seqBytes(seq), wire.subarray(0, n)]), wire.subarray(n))) return null;
    const out = new Uint8Array(n);
    out.set(wire.subarray(0, 4));
    const body = wire.subarray(4, n);
    out.set(this.cipher ? this.cipher.update(body) : body, 4);
    return out;
  }

  private openClassic(seq: number, wire: Uint8Array, n: number): Uint8Array | null {
    const out = new Uint8Array(n);
    if (this.cipher) {
      let head = this.pendingSeq === seq ? this.pendingHead : null;
      this.pendingHead = null;
      this.pendingSeq = -1;
      if (n < this.lengthBytes) return null;
      head ??= this.cipher.update(wire.subarray(0, this.lengthBytes));
      out.set(head);
      out.set(this.cipher.update(wire.subarray(this.lengthBytes, n)), this.lengthBytes);
    } else {
      out.set(wire.subarray(0, n));
    }
    if (!constantTimeEqual(this.macFn([this.seqBytes(seq), out]), wire.subarray(n))) return null;
    return out;
  }
}
