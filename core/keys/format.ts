/**
 * Text forms of public keys: the one-line `type base64 comment` form of `.pub` files and
 * authorized_keys entries (OpenSSH sshd(8) "AUTHORIZED_KEYS FILE FORMAT", without the options
 * prefix), and fingerprints as `ssh-keygen -l` prints them: `SHA256:` + unpadded base64 of the
 * SHA-256 of the blob, or `MD5:` + colon-separated hex (the RFC 4716 section 4 fingerprint).
 */
import { md5 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { KeyFormatError } from './errors.ts';
import { ECDSA_CURVES, bitLength, parsePublicKeyBlob, type ParsePublicKeyOptions, type PublicKey } from './public-key.ts';

export type KeyTypeLabel = 'ED25519' | 'ECDSA' | 'RSA';
export type FingerprintHash = 'sha256' | 'md5';

/** `type base64 [comment]`; no trailing space when there is no comment. */
export function formatPublicKeyLine(key: PublicKey, comment?: string): string {
  if (comment !== undefined && /[\r\n]/.test(comment)) throw new RangeError('a key comment cannot contain a line break');
  const line = `${key.type} ${encodeBase64(key.blob)}`;
  return comment ? `${line} ${comment}` : line;
}

/**
 * Parse a `.pub` line. The comment is the rest of the line after the base64, trimmed; the type
 * word must agree with the type inside the blob, as OpenSSH requires.
 */
export function parsePublicKeyLine(line: string, options: ParsePublicKeyOptions = {}): { key: PublicKey; comment: string } {
  const trimmed = line.trim();
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(trimmed);
  if (!m) {
    throw new KeyFormatError('KEY_FORMAT_INVALID', 'expected a public key line of the form "<type> <base64> [comment]"');
  }
  const type = m[1]!;
  let blob: Uint8Array;
  try {
    blob = decodeBase64(m[2]!);
  } catch (err) {
    throw new KeyFormatError('KEY_FORMAT_INVALID', `public key line: the key is not valid base64 (${(err as Error).message})`, { cause: err });
  }
  let key: PublicKey;
  try {
    key = parsePublicKeyBlob(blob, options);
  } catch (err) {
    const message = (err as Error).message;
    const code = message.startsWith('unsupported public key type') ? 'KEY_TYPE_UNSUPPORTED' : 'KEY_FORMAT_INVALID';
    throw new KeyFormatError(code, `public key line: ${message}`, { cause: err });
  }
  if (key.type !== type) {
    throw new KeyFormatError('KEY_FORMAT_INVALID', `public key line says "${type}" but the key inside is ${key.type}`);
  }
  return { key, comment: (m[3] ?? '').trim() };
}

/** `SHA256:…`, exactly as `ssh-keygen -l` prints it. */
export function fingerprintSha256(blob: Uint8Array): string {
  return `SHA256:${encodeBase64(sha256(blob), false)}`;
}

/** `MD5:aa:bb:…`, as `ssh-keygen -l -E md5` prints it. */
export function fingerprintMd5(blob: Uint8Array): string {
  const parts: string[] = [];
  for (const b of md5(blob)) parts.push(b.toString(16).padStart(2, '0'));
  return `MD5:${parts.join(':')}`;
}

export function fingerprint(blob: Uint8Array, hash: FingerprintHash = 'sha256'): string {
  return hash === 'md5' ? fingerprintMd5(blob) : fingerprintSha256(blob);
}

/** Key size as `ssh-keygen -l` reports it: modulus bits for RSA, curve size otherwise. */
export function keyBits(key: PublicKey): number {
  switch (key.type) {
    case 'ssh-ed25519':
      return 256;
    case 'ssh-rsa':
      return bitLength(key.n);
    default:
      return ECDSA_CURVES[key.curve].bits;
  }
}

export function keyTypeLabel(key: PublicKey): KeyTypeLabel {
  return key.type === 'ssh-ed25519' ? 'ED25519' : key.type === 'ssh-rsa' ? 'RSA' : 'ECDSA';
}

/** `256 SHA256:… comment (ED25519)`: the line `ssh-keygen -l` prints for a key. */
export function formatFingerprintLine(key: PublicKey, comment = '', hash: FingerprintHash = 'sha256'): string {
  return `${keyBits(key)} ${fingerprint(key.blob, hash)} ${comment || 'no comment'} (${keyTypeLabel(key)})`;
}
