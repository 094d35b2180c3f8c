/**
 * Reading key files whatever their format: the entry points an application uses for a path the
 * user gave it. Private keys: openssh-key-v1 (OpenSSH PROTOCOL.key, private-key.ts), PEM
 * PKCS#1/SEC1 with or without OpenSSL's header encryption (pem.ts), PKCS#8 plain or PBES2
 * encrypted (RFC 5958 / RFC 8018, pkcs8.ts). Public keys: the OpenSSH one-line form (format.ts),
 * RFC 4716 and SPKI / PKCS#1 PEM (public-key-formats.ts).
 *
 * The format is recognised from the armour lines, never from a file name. Everything the user
 * can get wrong ends in a {@link KeyFormatError} whose message names the source and says what to
 * do; a wrong passphrase is KEY_PASSPHRASE_WRONG and a missing one KEY_ENCRYPTED in every format.
 */
import { decodeBase64 } from './base64.ts';
import { KeyFormatError } from './errors.ts';
import { parsePublicKeyLine } from './format.ts';
import { MAX_KEY_TEXT, findPemBlock, isLegacyEncrypted, parseTraditionalPemPrivateKey, pemLabels, TRADITIONAL_LABELS } from './pem.ts';
import { parsePkcs8PrivateKey } from './pkcs8.ts';
import { parseOpenSshPrivateKey, shellQuote, type ParsePrivateKeyOptions, type PrivateKey } from './private-key.ts';
import { isRfc4716, parsePemPublicKey, parseRfc4716PublicKey, type PublicKeyFileOptions } from './public-key-formats.ts';
import type { PublicKey } from './public-key.ts';
import { SshReader } from '../wire/reader.ts';

const OPENSSH_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const OPENSSH_END = '-----END OPENSSH PRIVATE KEY-----';

export type PrivateKeyFormat = 'openssh' | 'pem-pkcs1' | 'pem-sec1' | 'pkcs8' | 'pkcs8-encrypted';

function tooLarge(source: string, length: number): KeyFormatError {
  return new KeyFormatError('KEY_FORMAT_INVALID', `${source} is ${length} characters long; no key file is larger than ${MAX_KEY_TEXT}, so this is not a key`);
}

/** Which private key format `text` is in, from its armour; null when it is none we read. */
export function privateKeyFormat(text: string): PrivateKeyFormat | null {
  for (const label of pemLabels(text)) {
    switch (label) {
      case 'OPENSSH PRIVATE KEY':
        return 'openssh';
      case 'RSA PRIVATE KEY':
        return 'pem-pkcs1';
      case 'EC PRIVATE KEY':
        return 'pem-sec1';
      case 'PRIVATE KEY':
        return 'pkcs8';
      case 'ENCRYPTED PRIVATE KEY':
        return 'pkcs8-encrypted';
    }
  }
  return null;
}

/**
 * Parse one private key in any supported format. `passphrase` is used only if the key is
 * encrypted. An openssh-key-v1 file holding several keys is refused here (OpenSSH refuses it
 * too); {@link parseOpenSshPrivateKey} returns them all.
 */
export function parsePrivateKey(text: string, options: ParsePrivateKeyOptions = {}): PrivateKey {
  const source = options.source ?? 'the key file';
  if (text.length > MAX_KEY_TEXT) throw tooLarge(source, text.length);
  const format = privateKeyFormat(text);
  switch (format) {
    case 'openssh': {
      const keys = parseOpenSshPrivateKey(text, options);
      if (keys.length !== 1) {
        throw new KeyFormatError('KEY_FORMAT_UNSUPPORTED', `${source} holds ${keys.length} keys; a key file must hold exactly one (as OpenSSH requires)`);
      }
      return keys[0]!;
    }
    case 'pem-pkcs1':
    case 'pem-sec1':
      return parseTraditionalPemPrivateKey(text, options)!;
    case 'pkcs8':
    case 'pkcs8-encrypted':
      return parsePkcs8PrivateKey(text, options)!;
    case null:
      throw unrecognised(text, options);
  }
}

function unrecognised(text: string, options: ParsePrivateKeyOptions): KeyFormatError {
  const source = options.source ?? 'the key file';
  const quoted = options.source === undefined ? '<key file>' : shellQuote(options.source);
  if (isRfc4716(text) || /-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) {
    return new KeyFormatError(
      'KEY_FORMAT_UNSUPPORTED',
      `${source} is a public key; pass the private key file instead (a public key cannot sign)`,
    );
  }
  if (text.includes('---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----')) {
    return new KeyFormatError(
      'KEY_FORMAT_UNSUPPORTED',
      `${source} is an ssh.com (SECSH) private key, which is not supported; convert it with: ssh-keygen -i -f ${quoted} > ${quoted}.openssh`,
    );
  }
  // parseOpenSshPrivateKey explains DSA, PuTTY, one-line public keys and unknown text.
  try {
    parseOpenSshPrivateKey(text, options);
  } catch (err) {
    if (err instanceof KeyFormatError) return err;
  }
  return new KeyFormatError('KEY_FORMAT_UNSUPPORTED', `${source} is not a private key we can read`);
}

/**
 * Whether `text` is a passphrase-protected private key (so the caller can ask for a passphrase
 * before parsing). False for unencrypted keys and for text that is not a private key at all.
 */
export function isEncryptedPrivateKey(text: string): boolean {
  if (text.length > MAX_KEY_TEXT) return false;
  try {
    switch (privateKeyFormat(text)) {
      case 'openssh': {
        const begin = text.indexOf(OPENSSH_BEGIN) + OPENSSH_BEGIN.length;
        const end = text.indexOf(OPENSSH_END, begin);
        if (end < 0) return false;
        const bytes = decodeBase64(text.slice(begin, end).replace(/\s+/g, ''));
        const r = new SshReader(bytes);
        r.raw(15); // "openssh-key-v1\0"
        return r.ascii(64) !== 'none';
      }
      case 'pem-pkcs1':
      case 'pem-sec1': {
        const block = findPemBlock(text, TRADITIONAL_LABELS);
        return block !== null && isLegacyEncrypted(block);
      }
      case 'pkcs8-encrypted':
        return true;
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/**
 * Parse a public key in any supported text form: an OpenSSH `.pub` line (the first line that is
 * not blank or a `#` comment), RFC 4716, SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY` PEM. The
 * comment is the `.pub` line's comment or the RFC 4716 Comment header; PEM forms have none.
 */
export function parsePublicKey(text: string, options: PublicKeyFileOptions = {}): { key: PublicKey; comment: string } {
  const source = options.source ?? 'the public key file';
  if (text.length > MAX_KEY_TEXT) throw tooLarge(source, text.length);
  if (isRfc4716(text)) {
    const { key, comment } = parseRfc4716PublicKey(text, options);
    return { key, comment };
  }
  const pem = parsePemPublicKey(text, options);
  if (pem) return { key: pem, comment: '' };
  if (privateKeyFormat(text) !== null || /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File-/.test(text)) {
    const quoted = options.source === undefined ? '<key file>' : shellQuote(options.source);
    throw new KeyFormatError(
      'KEY_FORMAT_UNSUPPORTED',
      `${source} is a private key; give the public key (.pub) file, or print the public key with: ssh-keygen -y -f ${quoted}`,
    );
  }
  const line = text.split(/\r\n|\r|\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (line === undefined) throw new KeyFormatError('KEY_FORMAT_INVALID', `${source} is empty; expected a public key`);
  try {
    return parsePublicKeyLine(line, options);
  } catch (err) {
    if (err instanceof KeyFormatError) throw new KeyFormatError(err.code, `${source}: ${err.message}`, { cause: err });
    throw err;
  }
}
