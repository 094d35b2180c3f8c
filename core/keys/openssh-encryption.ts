/**
 * Passphrase protection of `openssh-key-v1` files (OpenSSH PROTOCOL.key sections 2 and 4).
 *
 * The kdf is "bcrypt" with kdfoptions `string salt || uint32 rounds`; bcrypt_pbkdf derives
 * key ‖ IV for the cipher, and the cipher encrypts the padded private section. The ciphers and
 * their block, key, IV and tag sizes are those of OpenSSH's cipher table (cipher.c), which is
 * what `ssh-keygen -Z` accepts:
 *
 *     cipher                          block  key  iv  tag
 *     3des-cbc                           8    24   8    -
 *     aes128-cbc / aes192-cbc / aes256-cbc   16 16/24/32 16 -
 *     aes128-ctr / aes192-ctr / aes256-ctr   16 16/24/32 16 -
 *     aes128-gcm@openssh.com / aes256-gcm@openssh.com  16 16/32 12 16
 *     chacha20-poly1305@openssh.com      8    64   0   16
 *
 * AEAD tags follow the encrypted section's string, outside it. GCM is RFC 5647 style with the
 * 12-byte derived IV as nonce and no additional data. chacha20-poly1305 is PROTOCOL.chacha20poly1305
 * with sequence number 0 and no length field: the first 32 key bytes key the payload stream, the
 * Poly1305 key is that stream's block 0, the payload starts at block 1, the tag covers the ciphertext.
 *
 * OpenSSH tells a wrong passphrase by an AEAD tag that fails or by the two check integers at the
 * start of the decrypted section differing; so do we (private-key.ts checks the integers).
 */
import { cbc, ctr, gcm } from '@noble/ciphers/aes.js';
import type { RandomSource } from '../crypto/provider.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { bcryptPbkdf } from './bcrypt-pbkdf.ts';
import { tripleDesCbc } from './des.ts';
import { bytesEqual } from './public-key.ts';

export type OpenSshKeyCipher =
  | '3des-cbc'
  | 'aes128-cbc'
  | 'aes192-cbc'
  | 'aes256-cbc'
  | 'aes128-ctr'
  | 'aes192-ctr'
  | 'aes256-ctr'
  | 'aes128-gcm@openssh.com'
  | 'aes256-gcm@openssh.com'
  | 'chacha20-poly1305@openssh.com';

type Mode = 'cbc' | '3des' | 'ctr' | 'gcm' | 'chachapoly';
type CipherSpec = { readonly blockSize: number; readonly keyLength: number; readonly ivLength: number; readonly tagLength: number; readonly mode: Mode };

const spec = (blockSize: number, keyLength: number, ivLength: number, tagLength: number, mode: Mode): CipherSpec => ({
  blockSize,
  keyLength,
  ivLength,
  tagLength,
  mode,
});

export const OPENSSH_KEY_CIPHERS: Readonly<Record<OpenSshKeyCipher, CipherSpec>> = {
  '3des-cbc': spec(8, 24, 8, 0, '3des'),
  'aes128-cbc': spec(16, 16, 16, 0, 'cbc'),
  'aes192-cbc': spec(16, 24, 16, 0, 'cbc'),
  'aes256-cbc': spec(16, 32, 16, 0, 'cbc'),
  'aes128-ctr': spec(16, 16, 16, 0, 'ctr'),
  'aes192-ctr': spec(16, 24, 16, 0, 'ctr'),
  'aes256-ctr': spec(16, 32, 16, 0, 'ctr'),
  'aes128-gcm@openssh.com': spec(16, 16, 12, 16, 'gcm'),
  'aes256-gcm@openssh.com': spec(16, 32, 12, 16, 'gcm'),
  'chacha20-poly1305@openssh.com': spec(8, 64, 0, 16, 'chachapoly'),
};

/** ssh-keygen's default cipher for new passphrases (sshkey.c DEFAULT_CIPHERNAME). */
export const DEFAULT_OPENSSH_KEY_CIPHER: OpenSshKeyCipher = 'aes256-ctr';
/** ssh-keygen's default `-a` in OpenSSH 9.x before 9.8 (later releases use 24). */
export const DEFAULT_KDF_ROUNDS = 16;
/**
 * Rounds above this are refused when reading: the file is attacker-controlled and each round costs
 * milliseconds. ssh-keygen's `-a` is rarely above a few hundred.
 */
export const MAX_KDF_ROUNDS = 1 << 16;
/** ssh-keygen's salt size (sshkey.c SALT_LEN). */
const SALT_LENGTH = 16;
/** Bound on a stored salt; bcrypt_pbkdf itself allows 1 MiB, no real file has more than 16 bytes. */
const MAX_SALT_LENGTH = 1024;

export function isOpenSshKeyCipher(name: string): name is OpenSshKeyCipher {
  return Object.hasOwn(OPENSSH_KEY_CIPHERS, name);
}

/** The block size the private section is padded to (8 for "none"). */
export function cipherBlockSize(name: OpenSshKeyCipher | 'none'): number {
  return name === 'none' ? 8 : OPENSSH_KEY_CIPHERS[name].blockSize;
}

export function cipherTagLength(name: OpenSshKeyCipher | 'none'): number {
  return name === 'none' ? 0 : OPENSSH_KEY_CIPHERS[name].tagLength;
}

/** Parse bcrypt kdfoptions. Throws RangeError (via SshReader) for malformed bytes. */
export function parseBcryptKdfOptions(kdfOptions: Uint8Array): { salt: Uint8Array; rounds: number } {
  const r = new SshReader(kdfOptions, 'bcrypt kdf options');
  const salt = r.string(MAX_SALT_LENGTH);
  const rounds = r.uint32();
  r.end();
  return { salt, rounds };
}

export function encodeBcryptKdfOptions(salt: Uint8Array, rounds: number): Uint8Array {
  return new SshWriter().string(salt).uint32(rounds).finish().slice();
}

/** bcrypt_pbkdf output sized for `cipher`: key ‖ IV. */
export function deriveKeyAndIv(cipher: OpenSshKeyCipher, passphrase: Uint8Array, salt: Uint8Array, rounds: number): Uint8Array {
  const s = OPENSSH_KEY_CIPHERS[cipher];
  return bcryptPbkdf(passphrase, salt, rounds, s.keyLength + s.ivLength);
}

const ZERO_NONCE = new Uint8Array(8);

function chachaPolyKey(key: Uint8Array): Uint8Array {
  return pureCrypto.chacha20(key, ZERO_NONCE, 0, new Uint8Array(32));
}

/**
 * Decrypt a private section (`data` is the section, `tag` the AEAD tag or empty). Returns null
 * when an AEAD tag does not verify, which means the passphrase is wrong (or the file damaged).
 */
export function decryptSection(cipher: OpenSshKeyCipher, keyIv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array | null {
  const s = OPENSSH_KEY_CIPHERS[cipher];
  const key = keyIv.subarray(0, s.keyLength);
  const iv = keyIv.subarray(s.keyLength, s.keyLength + s.ivLength);
  switch (s.mode) {
    case 'ctr':
      return ctr(key, iv).decrypt(data);
    case 'cbc':
      return cbc(key, iv, { disablePadding: true }).decrypt(data);
    case '3des':
      return tripleDesCbc(key, iv, data, 'decrypt');
    case 'gcm': {
      const sealed = new Uint8Array(data.length + tag.length);
      sealed.set(data);
      sealed.set(tag, data.length);
      try {
        return gcm(key, iv).decrypt(sealed);
      } catch {
        return null;
      }
    }
    case 'chachapoly': {
      const mainKey = key.subarray(0, 32);
      const expected = pureCrypto.poly1305(chachaPolyKey(mainKey), data);
      if (!bytesEqual(expected, tag)) return null;
      return pureCrypto.chacha20(mainKey, ZERO_NONCE, 1, data);
    }
  }
}

/** Encrypt a padded private section; returns ciphertext and tag (empty for non-AEAD ciphers). */
export function encryptSection(cipher: OpenSshKeyCipher, keyIv: Uint8Array, plain: Uint8Array): { data: Uint8Array; tag: Uint8Array } {
  const s = OPENSSH_KEY_CIPHERS[cipher];
  const key = keyIv.subarray(0, s.keyLength);
  const iv = keyIv.subarray(s.keyLength, s.keyLength + s.ivLength);
  const none = new Uint8Array(0);
  switch (s.mode) {
    case 'ctr':
      return { data: ctr(key, iv).encrypt(plain), tag: none };
    case 'cbc':
      return { data: cbc(key, iv, { disablePadding: true }).encrypt(plain), tag: none };
    case '3des':
      return { data: tripleDesCbc(key, iv, plain, 'encrypt'), tag: none };
    case 'gcm': {
      const sealed = gcm(key, iv).encrypt(plain);
      return { data: sealed.subarray(0, plain.length), tag: sealed.subarray(plain.length) };
    }
    case 'chachapoly': {
      const mainKey = key.subarray(0, 32);
      const data = pureCrypto.chacha20(mainKey, ZERO_NONCE, 1, plain);
      return { data, tag: pureCrypto.poly1305(chachaPolyKey(mainKey), data) };
    }
  }
}

/** A fresh salt the size ssh-keygen uses. */
export function newSalt(random: RandomSource): Uint8Array {
  return random(SALT_LENGTH).slice();
}
