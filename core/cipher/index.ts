/**
 * Packet protection for the SSH transport (RFC 4253 section 6): the algorithm tables the key
 * exchange negotiates from and the factories that turn derived keys (RFC 4253 section 7.2) into a
 * {@link PacketSealer} / {@link PacketOpener}. Supported: chacha20-poly1305@openssh.com
 * (PROTOCOL.chacha20poly1305), aes128/256-gcm@openssh.com (RFC 5647, OpenSSH PROTOCOL 1.6),
 * aes128/192/256-ctr (RFC 4344) with hmac-sha2-256/512 (RFC 6668) or hmac-sha1 (RFC 4253), each
 * also in its encrypt-then-MAC form (PROTOCOL 1.5), and "none".
 */
import type { CryptoProvider } from '../crypto/provider.ts';
import { SshUsageError } from '../errors.ts';
import { ChaChaPolyOpener, ChaChaPolySealer } from './chacha20-poly1305.ts';
import { GcmOpener, GcmSealer } from './aes-gcm.ts';
import { StreamMacOpener, StreamMacSealer } from './ctr-mac.ts';
import { createNoneOpener, createNoneSealer } from './none.ts';
import type { CipherInfo, MacInfo, PacketKeys, PacketOpener, PacketSealer } from './types.ts';

export type { CipherInfo, MacInfo, PacketKeys, PacketOpener, PacketSealer } from './types.ts';
export { constantTimeEqual } from './ct.ts';
export { createNoneOpener, createNoneSealer } from './none.ts';

export const cipherInfo: Record<string, CipherInfo> = {
  'chacha20-poly1305@openssh.com': { keyLength: 64, ivLength: 0, blockSize: 8, aead: true },
  'aes128-gcm@openssh.com': { keyLength: 16, ivLength: 12, blockSize: 16, aead: true },
  'aes256-gcm@openssh.com': { keyLength: 32, ivLength: 12, blockSize: 16, aead: true },
  'aes128-ctr': { keyLength: 16, ivLength: 16, blockSize: 16, aead: false },
  'aes192-ctr': { keyLength: 24, ivLength: 16, blockSize: 16, aead: false },
  'aes256-ctr': { keyLength: 32, ivLength: 16, blockSize: 16, aead: false },
  none: { keyLength: 0, ivLength: 0, blockSize: 8, aead: false },
};

export const macInfo: Record<string, MacInfo> = {
  'hmac-sha2-256-etm@openssh.com': { keyLength: 32, macLength: 32, etm: true, hash: 'sha256' },
  'hmac-sha2-512-etm@openssh.com': { keyLength: 64, macLength: 64, etm: true, hash: 'sha512' },
  'hmac-sha2-256': { keyLength: 32, macLength: 32, etm: false, hash: 'sha256' },
  'hmac-sha2-512': { keyLength: 64, macLength: 64, etm: false, hash: 'sha512' },
  'hmac-sha1': { keyLength: 20, macLength: 20, etm: false, hash: 'sha1' },
  'hmac-sha1-etm@openssh.com': { keyLength: 20, macLength: 20, etm: true, hash: 'sha1' },
};

interface Resolved {
  readonly cipher: CipherInfo;
  readonly mac: MacInfo | null;
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly macKey: Uint8Array;
}

/** Derived keys may be longer than needed (RFC 4253 7.2 lets them be cut); shorter is a bug. */
function take(what: string, bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length < length) throw new SshUsageError(`${what}: need ${length} bytes, got ${bytes.length}`);
  return bytes.subarray(0, length);
}

function resolve(cipher: string, mac: string | null, keys: PacketKeys): Resolved {
  const c = cipherInfo[cipher];
  if (!c) throw new SshUsageError(`unsupported cipher ${cipher}`);
  // An AEAD cipher ignores whatever MAC was negotiated (PROTOCOL.chacha20poly1305, "Negotiation").
  let m: MacInfo | null = null;
  if (!c.aead && mac !== null && mac !== 'none') {
    const info = macInfo[mac];
    if (!info) throw new SshUsageError(`unsupported MAC ${mac}`);
    m = info;
  }
  if (!c.aead && cipher !== 'none' && m === null) throw new SshUsageError(`cipher ${cipher} needs a MAC`);
  return {
    cipher: c,
    mac: m,
    key: take(`${cipher} key`, keys.key, c.keyLength),
    iv: take(`${cipher} IV`, keys.iv, c.ivLength),
    macKey: m ? take(`${mac} key`, keys.macKey, m.keyLength) : new Uint8Array(0),
  };
}

export function createSealer(crypto: CryptoProvider, cipher: string, mac: string | null, keys: PacketKeys): PacketSealer {
  const r = resolve(cipher, mac, keys);
  const k = { key: r.key, iv: r.iv, macKey: r.macKey };
  if (cipher === 'chacha20-poly1305@openssh.com') return new ChaChaPolySealer(crypto, k);
  if (r.cipher.aead) return new GcmSealer(crypto, k);
  if (r.mac === null) return createNoneSealer();
  const stream = cipher === 'none' ? null : crypto.createAesCtr(r.key, r.iv);
  return new StreamMacSealer(crypto, stream, r.cipher.blockSize, r.mac, r.macKey);
}

export function createOpener(crypto: CryptoProvider, cipher: string, mac: string | null, keys: PacketKeys): PacketOpener {
  const r = resolve(cipher, mac, keys);
  const k = { key: r.key, iv: r.iv, macKey: r.macKey };
  if (cipher === 'chacha20-poly1305@openssh.com') return new ChaChaPolyOpener(crypto, k);
  if (r.cipher.aead) return new GcmOpener(crypto, k);
  if (r.mac === null) return createNoneOpener();
  const stream = cipher === 'none' ? null : crypto.createAesCtr(r.key, r.iv);
  return new StreamMacOpener(crypto, stream, r.cipher.blockSize, r.mac, r.macKey);
}
