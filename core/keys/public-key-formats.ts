/**
 * Public key files other than OpenSSH's one-line form (format.ts):
 *
 * - RFC 4716 "SSH2 PUBLIC KEY" files (section 3): `---- BEGIN SSH2 PUBLIC KEY ----`, RFC 822-style
 *   header fields (`Header-tag: Header-value`, tag at most 64 bytes and case-insensitive, value at
 *   most 1024 bytes of UTF-8, a line continued when it ends in `\`, every line at most 72 bytes),
 *   then the base64 public key blob, then `---- END SSH2 PUBLIC KEY ----`. `ssh-keygen -e` writes
 *   them and `ssh-keygen -i` reads them. The Comment value is customarily in double quotes, and
 *   readers must cope without them (section 3.3.2).
 * - SubjectPublicKeyInfo in PEM, `-----BEGIN PUBLIC KEY-----` (RFC 5280 section 4.1, RFC 7468
 *   section 13) for rsaEncryption (RFC 3279 2.3.1), id-ecPublicKey on a named curve (RFC 5480) and
 *   id-Ed25519 (RFC 8410 section 4); what `ssh-keygen -e -m PKCS8` and `openssl pkey -pubout` write.
 * - PKCS#1 RSAPublicKey in PEM, `-----BEGIN RSA PUBLIC KEY-----` (RFC 8017 appendix A.1.1), what
 *   `ssh-keygen -e -m PEM` writes for RSA keys.
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import type { EcCurve } from '../crypto/provider.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { DerError, derBitString, derInteger, derSequence, readDer, TAG } from './der.ts';
import { KeyFormatError } from './errors.ts';
import { findPemBlock, formatPem } from './pem.ts';
import { encodeKeyAlgorithm, readKeyAlgorithm } from './pkcs8.ts';
import {
  ECDSA_CURVES,
  ecdsaPublicKey,
  ed25519PublicKey,
  parsePublicKeyBlob,
  rsaPublicKey,
  type ParsePublicKeyOptions,
  type PublicKey,
} from './public-key.ts';

export type PublicKeyFileOptions = ParsePublicKeyOptions & {
  /** Names the key in error messages (e.g. a file path). */
  readonly source?: string;
};

function invalid(message: string, cause?: unknown): KeyFormatError {
  return new KeyFormatError('KEY_FORMAT_INVALID', message, cause === undefined ? undefined : { cause });
}

/** Turn the protocol-level error of a bad blob or key into a key-file error naming the source. */
function fromBlobError(err: unknown, source: string): KeyFormatError {
  if (err instanceof KeyFormatError) return err;
  const message = (err as Error).message;
  const code = message.startsWith('unsupported public key type') ? 'KEY_TYPE_UNSUPPORTED' : 'KEY_FORMAT_INVALID';
  return new KeyFormatError(code, `${source}: ${message}`, { cause: err });
}

// ---- RFC 4716 -----------------------------------------------------------------------------------

const RFC4716_BEGIN = '---- BEGIN SSH2 PUBLIC KEY ----';
const RFC4716_END = '---- END SSH2 PUBLIC KEY ----';
const MAX_TAG_BYTES = 64;
const MAX_VALUE_BYTES = 1024;
const MAX_LINE_BYTES = 72;
/** Base64 line width `ssh-keygen -e` uses (within the 72-byte limit). */
const RFC4716_BODY_WIDTH = 70;

export type Rfc4716PublicKey = {
  readonly key: PublicKey;
  /** The Comment header's value without its customary quotes, or '' when absent. */
  readonly comment: string;
  /** Every header in file order, continuation lines joined, values as written. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
};

const utf8 = new TextEncoder();

export function isRfc4716(text: string): boolean {
  return text.includes(RFC4716_BEGIN);
}

/** Parse the first RFC 4716 public key in `text`. Throws KeyFormatError. */
export function parseRfc4716PublicKey(text: string, options: PublicKeyFileOptions = {}): Rfc4716PublicKey {
  const source = options.source ?? 'the public key file';
  const lines = text.split(/\r\n|\r|\n/);
  let i = lines.findIndex((l) => l.trim() === RFC4716_BEGIN);
  if (i < 0) throw new KeyFormatError('KEY_FORMAT_UNSUPPORTED', `${source} is not an RFC 4716 public key (no "${RFC4716_BEGIN}" line)`);
  i++;
  const headers: [string, string][] = [];
  // Section 3.3: headers come first; the body is base64, which never contains ':'.
  while (i < lines.length && lines[i]!.includes(':')) {
    let logical = lines[i]!;
    while (logical.endsWith('\\')) {
      i++;
      if (i >= lines.length) throw invalid(`${source}: a header line ends in "\\" but nothing follows; the file is truncated`);
      logical = logical.slice(0, -1) + lines[i]!;
    }
    i++;
    const colon = logical.indexOf(':');
    const tag = logical.slice(0, colon);
    if (!/^[!-9;-~]+$/.test(tag) || tag.length > MAX_TAG_BYTES) {
      throw invalid(`${source}: header tag "${tag.slice(0, 70)}" is not 1 to ${MAX_TAG_BYTES} printable US-ASCII characters`);
    }
    const value = logical.slice(colon + 1).replace(/^ /, '');
    if (utf8.encode(value).length > MAX_VALUE_BYTES) throw invalid(`${source}: the ${tag} header is longer than ${MAX_VALUE_BYTES} bytes`);
    headers.push([tag, value]);
  }
  const body: string[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === RFC4716_END) break;
    body.push(line);
  }
  if (i >= lines.length) throw invalid(`${source}: the "${RFC4716_END}" line is missing; the file is truncated`);
  const b64 = body.join('');
  if (b64 === '') throw invalid(`${source}: the RFC 4716 public key has no key data`);
  let blob: Uint8Array;
  try {
    blob = decodeBase64(b64);
  } catch (err) {
    throw invalid(`${source}: the RFC 4716 key data is not valid base64 (${(err as Error).message})`, err);
  }
  let key: PublicKey;
  try {
    key = parsePublicKeyBlob(blob, options);
  } catch (err) {
    throw fromBlobError(err, source);
  }
  const rawComment = headers.find(([t]) => t.toLowerCase() === 'comment')?.[1] ?? '';
  const quoted = /^"(.*)"$/s.exec(rawComment.trim());
  return { key, comment: quoted ? quoted[1]! : rawComment.trim(), headers };
}

/** Split a header line into physical lines of at most 72 bytes, `\` marking continuation. */
function foldHeader(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let bytes = 0;
  for (const ch of line) {
    const n = utf8.encode(ch).length;
    // Leave room for the continuation backslash on every line but the last.
    if (bytes + n > MAX_LINE_BYTES - 1) {
      out.push(`${current}\\`);
      current = '';
      bytes = 0;
    }
    current += ch;
    bytes += n;
  }
  // The last piece may use the full 72 bytes; re-join it if it fits without its backslash.
  const last = out.length > 0 ? out[out.length - 1]! : null;
  if (last !== null && utf8.encode(last).length - 1 + bytes <= MAX_LINE_BYTES) {
    out[out.length - 1] = last.slice(0, -1) + current;
  } else {
    out.push(current);
  }
  return out;
}

/**
 * Write `key` as an RFC 4716 file. The comment goes in a quoted Comment header, as ssh-keygen
 * writes it; `headers` adds others (tags of 1 to 64 printable ASCII characters, values up to 1024
 * bytes, no line breaks). Long headers are folded with `\` to keep every line within 72 bytes.
 */
export function formatRfc4716PublicKey(key: PublicKey, comment = '', headers: ReadonlyArray<readonly [string, string]> = []): string {
  const all: [string, string][] = [];
  if (comment !== '') all.push(['Comment', `"${comment}"`]);
  all.push(...headers.map(([t, v]) => [t, v] as [string, string]));
  const lines = [RFC4716_BEGIN];
  for (const [tag, value] of all) {
    if (!/^[!-9;-~]+$/.test(tag) || tag.length > MAX_TAG_BYTES) throw new RangeError(`RFC 4716 header tag "${tag}" must be 1 to 64 printable ASCII characters without ":"`);
    if (/[\r\n]/.test(value)) throw new RangeError(`RFC 4716 header ${tag} cannot contain a line break`);
    if (utf8.encode(value).length > MAX_VALUE_BYTES) throw new RangeError(`RFC 4716 header ${tag} is longer than ${MAX_VALUE_BYTES} bytes`);
    lines.push(...foldHeader(`${tag}: ${value}`));
  }
  const b64 = encodeBase64(key.blob);
  for (let o = 0; o < b64.length; o += RFC4716_BODY_WIDTH) lines.push(b64.slice(o, o + RFC4716_BODY_WIDTH));
  lines.push(RFC4716_END, '');
  return lines.join('\n');
}

// ---- SubjectPublicKeyInfo and PKCS#1 RSAPublicKey -------------------------------------------------

const NOBLE = { p256, p384, p521 } as const;

function parseRsaPublicKeyDer(der: Uint8Array, options: PublicKeyFileOptions, source: string): PublicKey {
  const r = readDer(der, TAG.SEQUENCE, 'PKCS#1 RSAPublicKey');
  const n = r.unsigned();
  const e = r.unsigned(64);
  r.end();
  try {
    return rsaPublicKey(n, e, options);
  } catch (err) {
    throw fromBlobError(err, source);
  }
}

/** An EC point from SPKI: uncompressed as SSH wants it, compressed ones expanded. */
function ecPoint(curve: EcCurve, bytes: Uint8Array, source: string): PublicKey {
  let point = bytes;
  if (bytes[0] === 0x02 || bytes[0] === 0x03) {
    try {
      point = NOBLE[curve].Point.fromBytes(bytes).toBytes(false);
    } catch (err) {
      throw invalid(`${source}: the compressed EC point is not on ${ECDSA_CURVES[curve].identifier}`, err);
    }
  }
  try {
    return ecdsaPublicKey(curve, point);
  } catch (err) {
    throw fromBlobError(err, source);
  }
}

/** Parse SubjectPublicKeyInfo DER. */
export function parseSpki(der: Uint8Array, options: PublicKeyFileOptions = {}): PublicKey {
  const source = options.source ?? 'the public key file';
  try {
    const r = readDer(der, TAG.SEQUENCE, 'SubjectPublicKeyInfo');
    const algorithm = readKeyAlgorithm(r, source);
    const bits = r.bitString('the subjectPublicKey BIT STRING');
    r.end();
    switch (algorithm.kind) {
      case 'rsa':
        return parseRsaPublicKeyDer(bits, options, source);
      case 'ec':
        return ecPoint(algorithm.curve, bits, source);
      case 'ed25519':
        if (bits.length !== 32) throw invalid(`${source}: the Ed25519 public key is ${bits.length} bytes, expected 32`);
        return ed25519PublicKey(bits);
    }
  } catch (err) {
    if (err instanceof DerError) throw invalid(`${source}: malformed public key: ${err.message}`, err);
    throw fromBlobError(err, source);
  }
}

export function encodeSpki(key: PublicKey): Uint8Array {
  switch (key.type) {
    case 'ssh-rsa':
      return derSequence(encodeKeyAlgorithm(key), derBitString(derSequence(derInteger(key.n), derInteger(key.e))));
    case 'ssh-ed25519':
      return derSequence(encodeKeyAlgorithm(key), derBitString(key.key));
    default:
      return derSequence(encodeKeyAlgorithm(key), derBitString(key.point));
  }
}

/** `-----BEGIN PUBLIC KEY-----` (SPKI) PEM, as `ssh-keygen -e -m PKCS8` and OpenSSL write it. */
export function formatSpkiPem(key: PublicKey): string {
  return formatPem('PUBLIC KEY', encodeSpki(key));
}

/** `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1) PEM, as `ssh-keygen -e -m PEM` writes RSA keys. */
export function formatPkcs1RsaPublicKeyPem(key: PublicKey): string {
  if (key.type !== 'ssh-rsa') throw new RangeError('only RSA keys have a PKCS#1 public key form; use formatSpkiPem');
  return formatPem('RSA PUBLIC KEY', derSequence(derInteger(key.n), derInteger(key.e)));
}

export const PUBLIC_PEM_LABELS = ['PUBLIC KEY', 'RSA PUBLIC KEY'] as const;

/** Parse a `PUBLIC KEY` or `RSA PUBLIC KEY` PEM file; null when `text` has neither. */
export function parsePemPublicKey(text: string, options: PublicKeyFileOptions = {}): PublicKey | null {
  const source = options.source ?? 'the public key file';
  const block = findPemBlock(text, PUBLIC_PEM_LABELS, source);
  if (!block) return null;
  if (block.label === 'PUBLIC KEY') return parseSpki(block.body, options);
  try {
    return parseRsaPublicKeyDer(block.body, options, source);
  } catch (err) {
    if (err instanceof DerError) throw invalid(`${source}: malformed RSA PUBLIC KEY: ${err.message}`, err);
    throw err;
  }
}
