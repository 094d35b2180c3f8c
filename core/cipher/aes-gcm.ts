/**
 * aes128-gcm@openssh.com and aes256-gcm@openssh.com: RFC 5647 with OpenSSH's amendments (PROTOCOL
 * section 1.6, draft-miller-sshm-aes-gcm). The packet length is sent in the clear as additional
 * authenticated data, the rest of the packet is encrypted, and a 16-byte tag follows. The 12-byte
 * nonce is a 4-byte fixed field || an 8-byte invocation counter taken from the derived IV and
 * incremented after every packet (RFC 5647 section 7.1) — independently of the sequence number.
 */
import type { AeadCipher, CryptoProvider } from '../crypto/provider.ts';
import type { AeadWithAadPrefix, PacketKeys, PacketOpener, PacketSealer } from './types.ts';
import { readU32 } from './util.ts';

const TAG = 16;

class GcmState {
  protected readonly aead: AeadCipher & Partial<AeadWithAadPrefix>;
  protected readonly iv: Uint8Array;
  readonly blockSize = 16;
  readonly lengthExcludedFromPadding = true;
  readonly macLength = TAG;

  constructor(crypto: CryptoProvider, keys: PacketKeys) {
    if (keys.iv.length < 12) throw new RangeError('AES-GCM needs a 12-byte IV');
    this.aead = crypto.createAesGcm(keys.key);
    // A private copy (the counter is advanced in place); a Node buffer's slice would share memory.
    this.iv = new Uint8Array(keys.iv.subarray(0, 12));
  }

  /** invocation_counter += 1 modulo 2^64; the fixed field (bytes 0-3) never changes. */
  protected step(): void {
    for (let i = 11; i >= 4; i--) {
      const v = (this.iv[i]! + 1) & 0xff;
      this.iv[i] = v;
      if (v !== 0) break;
    }
  }
}

export class GcmSealer extends GcmState implements PacketSealer {
  seal(_seq: number, plain: Uint8Array): Uint8Array {
    if (this.aead.sealWithAad) {
      const wire = this.aead.sealWithAad(this.iv, plain.subarray(0, 4), plain.subarray(4));
      this.step();
      return wire;
    }
    const sealed = this.aead.seal(this.iv, plain.subarray(0, 4), plain.subarray(4));
    this.step();
    const out = new Uint8Array(4 + sealed.length);
    out.set(plain.subarray(0, 4));
    out.set(sealed, 4);
    return out;
  }
}

export class GcmOpener extends GcmState implements PacketOpener {
  readonly lengthBytes = 4;

  decryptLength(_seq: number, head: Uint8Array): number {
    return head.length < 4 ? -1 : readU32(head, 0);
  }

  open(_seq: number, wire: Uint8Array): Uint8Array | null {
    if (wire.length < 4 + TAG) return null;
    let plain: Uint8Array | null;
    try {
      if (this.aead.openWithAad) {
        const packet = this.aead.openWithAad(this.iv, wire.subarray(0, 4), wire.subarray(4));
        this.step();
        return packet;
      }
      plain = this.aead.open(this.iv, wire.subarray(0, 4), wire.subarray(4));
    } catch {
      plain = null;
    }
    this.step();
    if (plain === null) return null;
    const out = new Uint8Array(4 + plain.length);
    out.set(wire.subarray(0, 4));
    out.set(plain, 4);
    return out;
  }
}
