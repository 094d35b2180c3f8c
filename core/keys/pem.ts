/**
 * PEM key files in OpenSSL's "traditional" formats and the armour shared by every PEM file:
 *
 * - Armour: RFC 7468 (`-----BEGIN label-----`, base64 body, `-----END label-----`), with the
 *   RFC 1421 section 4.6 header lines OpenSSL still writes for encrypted traditional keys.
 * - `RSA PRIVATE KEY`: PKCS#1 RSAPrivateKey (RFC 8017 appendix A.1.2), two-prime only.
 * - `EC PRIVATE KEY`: SEC1 ECPrivateKey (RFC 5915 section 3) on a named curve (RFC 5480 2.1.1.1).
 * - Encryption by `Proc-Type: 4,ENCRYPTED` / `DEK-Info: <cipher>,<iv hex>` headers, as written by
 *   `ssh-keygen -m PEM -N …` and `openssl rsa|ec -aes256|-des3`: CBC with PKCS#7 padding, key from
 *   OpenSSL's EVP_BytesToKey with MD5, one iteration, the first 8 IV bytes as salt
 *   (D1 = MD5(pass ‖ salt), Di = MD5(Di-1 ‖ pass ‖ salt), key = D1 ‖ D2 ‖ … truncated).
 *
 * A wrong passphrase cannot be told apart from damage with certainty; it shows as bad padding or
 * a body that does not parse, and both are reported as KEY_PASSPHRASE_WRONG.
 */
import { cbc } from '@noble/ciphers/aes.js';
import { md5 } from '@noble/hashes/legacy.js';
import type { EcCurve, RsaPrivateKey } from '../crypto/provider.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { DerError, DerReader, contextTag, derBitString, derExplicit, derInteger, derOctetString, derOid, derSequence, readDer, TAG } from './der.ts';
import { tripleDesCbc } from './des.ts';
import { KeyFormatError } from './errors.ts';
import {
  ecdsaPrivateKey,
  hasPassphrase,
  passphraseBytes,
  rsaPrivateKey,
  wrongPassphrase,
  type EcdsaPrivateKey,
  type KeyDerivationCrypto,
  type ParsePrivateKeyOptions,
  type PrivateKey,
  type RsaSshPrivateKey,
} from './private-key.ts';
import { ECDSA_CURVES, RSA_MIN_MODULUS_BITS, bytesEqual } from './public-key.ts';

// ---- armour -----------------------------------------------------------------------------------

export type PemBlock = {
  readonly label: string;
  /** RFC 1421 header fields in file order, names as written. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Uint8Array;
};

const BEGIN_RE = /-----BEGIN ([A-Z0-9][A-Z0-9 ]*[A-Z0-9])-----/g;

/** Text is bounded before parsing: no key file is anywhere near this. */
export const MAX_KEY_TEXT = 1 << 20;

/** The labels of every PEM block in `text`, in order (cheap: no decoding). */
export function pemLabels(text: string): string[] {
  return Array.from(text.matchAll(BEGIN_RE), (m) => m[1]!);
}

/**
 * Find and decode the first PEM block whose label is one of `labels`; null when there is none.
 * Throws KeyFormatError (KEY_FORMAT_INVALID) for a block that starts but is malformed.
 */
export function findPemBlock(text: string, labels: readonly string[], source = 'the key file'): PemBlock | null {
  for (const m of text.matchAll(BEGIN_RE)) {
    const label = m[1]!;
    if (!labels.includes(label)) continue;
    const endLine = `-----END ${label}-----`;
    const from = m.index + m[0].length;
    const to = text.indexOf(endLine, from);
    if (to < 0) throw invalid(`${source}: the "${endLine}" line is missing; the file is truncated`);
    const lines = text.slice(from, to).split(/\r\n|\r|\n/);
    const headers: [string, string][] = [];
    let i = 0;
    while (i < lines.length && lines[i]!.trim() === '') i++;
    // Headers run to the first blank line, and only exist if the first line looks like one.
    if (i < lines.length && /^[A-Za-z][A-Za-z0-9-]*:/.test(lines[i]!)) {
      for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
        const line = lines[i]!;
        if (/^[ \t]/.test(line) && headers.length > 0) {
          const last = headers[headers.length - 1]!;
          last[1] += line.trim();
          continue;
        }
        const colon = line.indexOf(':');
        if (colon < 1) throw invalid(`${source}: PEM header line "${line.slice(0, 40)}" has no ":"; the file is damaged`);
        headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
      }
    }
    const b64 = lines.slice(i).join('').replace(/[ \t]+/g, '');
    if (b64 === '') throw invalid(`${source}: the ${label} block is empty`);
    let body: Uint8Array;
    try {
      body = decodeBase64(b64);
    } catch (err) {
      throw invalid(`${source}: the ${label} block is not valid base64 (${(err as Error).message}); the file is damaged`, err);
    }
    return { label, headers, body };
  }
  return null;
}

export function pemHeader(block: PemBlock, name: string): string | undefined {
  const lower = name.toLowerCase();
  return block.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** RFC 7468 armour with 64-column base64, as OpenSSL writes it. */
export function formatPem(label: string, body: Uint8Array): string {
  const b64 = encodeBase64(body);
  const lines = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`, '');
  return lines.join('\n');
}

// ---- shared helpers ---------------------------------------------------------------------------

export function invalid(message: string, cause?: unknown): KeyFormatError {
  return new KeyFormatError('KEY_FORMAT_INVALID', message, cause === undefined ? undefined : { cause });
}

export function passphraseNeeded(source: string, what: string): KeyFormatError {
  return new KeyFormatError(
    'KEY_ENCRYPTED',
    `${source} is ${what} protected by a passphrase; a passphrase is needed to read it. Supply it, or remove ` +
      `the protection from a private copy with: ssh-keygen -p -N '' -f <copy> (it asks for the old passphrase)`,
  );
}

export type CbcAlgorithm = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' | 'des-ede3-cbc';

export const CBC_PARAMETERS: Readonly<Record<CbcAlgorithm, { keyLength: number; ivLength: number }>> = {
  'aes-128-cbc': { keyLength: 16, ivLength: 16 },
  'aes-192-cbc': { keyLength: 24, ivLength: 16 },
  'aes-256-cbc': { keyLength: 32, ivLength: 16 },
  'des-ede3-cbc': { keyLength: 24, ivLength: 8 },
};

/** CBC without padding; `data` is whole blocks (callers check). */
export function cbcCrypt(algorithm: CbcAlgorithm, key: Uint8Array, iv: Uint8Array, data: Uint8Array, direction: 'encrypt' | 'decrypt'): Uint8Array {
  if (algorithm === 'des-ede3-cbc') return tripleDesCbc(key, iv, data, direction);
  const cipher = cbc(key, iv, { disablePadding: true });
  return direction === 'encrypt' ? cipher.encrypt(data) : cipher.decrypt(data);
}

/**
 * Decrypt and remove PKCS#7 padding (RFC 8018 section 6.1.1 step 4). Returns null when the
 * length or padding is wrong, which after decryption almost always means a wrong passphrase.
 */
export function cbcDecryptPadded(algorithm: CbcAlgorithm, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array | null {
  const block = CBC_PARAMETERS[algorithm].ivLength;
  if (data.length === 0 || data.length % block !== 0) return null;
  const plain = cbcCrypt(algorithm, key, iv, data, 'decrypt');
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > block) return null;
  for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) return null;
  return plain.subarray(0, plain.length - pad);
}

export function cbcEncryptPadded(algorithm: CbcAlgorithm, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const block = CBC_PARAMETERS[algorithm].ivLength;
  const pad = block - (data.length % block);
  const padded = new Uint8Array(data.length + pad);
  padded.set(data);
  padded.fill(pad, data.length);
  return cbcCrypt(algorithm, key, iv, padded, 'encrypt');
}

// ---- legacy (traditional) encryption -------------------------------------------------------------

const DEK_CIPHERS: Readonly<Record<string, CbcAlgorithm>> = {
  'AES-128-CBC': 'aes-128-cbc',
  'AES-192-CBC': 'aes-192-cbc',
  'AES-256-CBC': 'aes-256-cbc',
  'DES-EDE3-CBC': 'des-ede3-cbc',
};

/** OpenSSL's EVP_BytesToKey with MD5 and one iteration (see the module header). */
export function evpBytesToKeyMd5(password: Uint8Array, salt: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let o = 0; o < length; o += 16) {
    const input = new Uint8Array(previous.length + password.length + salt.length);
    input.set(previous);
    input.set(password, previous.length);
    input.set(salt, previous.length + password.length);
    previous = md5(input);
    out.set(previous.subarray(0, Math.min(16, length - o)), o);
  }
  return out;
}

export function isLegacyEncrypted(block: PemBlock): boolean {
  return /^\s*4\s*,\s*ENCRYPTED\s*$/i.test(pemHeader(block, 'Proc-Type') ?? '');
}

function legacyDecrypt(block: PemBlock, options: ParsePrivateKeyOptions, source: string): Uint8Array {
  const dek = pemHeader(block, 'DEK-Info');
  if (dek === undefined) throw invalid(`${source}: the key is marked encrypted but has no DEK-Info header; the file is damaged`);
  const m = /^([A-Za-z0-9-]+)\s*,\s*([0-9A-Fa-f]+)$/.exec(dek);
  if (!m) throw invalid(`${source}: DEK-Info header "${dek}" is malformed; the file is damaged`);
  const algorithm = DEK_CIPHERS[m[1]!.toUpperCase()];
  if (!algorithm) {
    throw new KeyFormatError(
      'KEY_FORMAT_UNSUPPORTED',
      `${source} is encrypted with ${m[1]}, which is not supported (AES-128/192/256-CBC and DES-EDE3-CBC are); ` +
        `re-encrypt it with: ssh-keygen -p -f <file> (writes the OpenSSH format)`,
    );
  }
  const { keyLength, ivLength } = CBC_PARAMETERS[algorithm];
  const ivHex = m[2]!;
  if (ivHex.length !== ivLength * 2) throw invalid(`${source}: DEK-Info IV is ${ivHex.length / 2} bytes, expected ${ivLength}; the file is damaged`);
  const iv = Uint8Array.from(ivHex.match(/../g)!, (h) => parseInt(h, 16));
  if (!hasPassphrase(options.passphrase)) throw passphraseNeeded(source, `a PEM ${block.label.replace(' PRIVATE KEY', '')} private key`);
  const key = evpBytesToKeyMd5(passphraseBytes(options.passphrase), iv.subarray(0, 8), keyLength);
  const plain = cbcDecryptPadded(algorithm, key, iv, block.body);
  key.fill(0);
  if (!plain) throw wrongPassphrase(source, 'the decrypted padding is wrong');
  return plain;
}

// ---- PKCS#1 and SEC1 bodies ---------------------------------------------------------------------

const CURVE_OIDS: Readonly<Record<EcCurve, string>> = {
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
};

export function curveOid(curve: EcCurve): string {
  return CURVE_OIDS[curve];
}

/** The named curve for an OID (RFC 5480 section 2.1.1.1), or a KEY_TYPE_UNSUPPORTED error. */
export function curveFromOid(oid: string, source: string): EcCurve {
  for (const [curve, value] of Object.entries(CURVE_OIDS) as [EcCurve, string][]) if (value === oid) return curve;
  throw new KeyFormatError(
    'KEY_TYPE_UNSUPPORTED',
    `${source}: the elliptic curve ${oid} is not supported; SSH uses NIST P-256, P-384 and P-521 (create a key with ssh-keygen -t ecdsa -b 256)`,
  );
}

/** Read the ECParameters CHOICE: only namedCurve is accepted, explicit parameters are refused. */
export function readCurveParameters(r: DerReader, source: string): EcCurve {
  if (r.peekTag() === TAG.SEQUENCE) {
    throw new KeyFormatError(
      'KEY_FORMAT_UNSUPPORTED',
      `${source}: the EC key spells out its curve parameters instead of naming the curve; rewrite it with: ` +
        `openssl ec -in <file> -param_enc named_curve -out <new file>`,
    );
  }
  return curveFromOid(r.oid('the named curve OID'), source);
}

/** Parse PKCS#1 RSAPrivateKey DER into checked integers. */
export function parsePkcs1RsaPrivateKey(der: Uint8Array, source: string): RsaPrivateKey {
  const r = readDer(der, TAG.SEQUENCE, 'PKCS#1 RSAPrivateKey');
  const version = r.smallInteger(1, 'RSAPrivateKey version');
  if (version !== 0) {
    throw new KeyFormatError('KEY_TYPE_UNSUPPORTED', `${source}: multi-prime RSA keys are not supported; use a two-prime RSA key (ssh-keygen -t rsa)`);
  }
  const n = r.unsigned();
  const e = r.unsigned();
  const d = r.unsigned();
  const p = r.unsigned();
  const q = r.unsigned();
  const dp = r.unsigned();
  const dq = r.unsigned();
  const iqmp = r.unsigned();
  r.end();
  // The CRT exponents are redundant; a file whose copies disagree has been damaged.
  if (p > 1n && q > 1n && (dp !== d % (p - 1n) || dq !== d % (q - 1n))) throw new DerError('PKCS#1 RSAPrivateKey: CRT exponents do not match d');
  return { n, e, d, p, q, iqmp };
}

export function encodePkcs1RsaPrivateKey(rsa: RsaPrivateKey): Uint8Array {
  const { n, e, d, p, q, iqmp } = rsa;
  return derSequence(derInteger(0), derInteger(n), derInteger(e), derInteger(d), derInteger(p), derInteger(q), derInteger(d % (p - 1n)), derInteger(d % (q - 1n)), derInteger(iqmp));
}

export type Sec1Key = { readonly curve: EcCurve | null; readonly d: Uint8Array; readonly point: Uint8Array | null };

/** Parse SEC1 ECPrivateKey DER; `curve` is null when the optional parameters are absent. */
export function parseSec1EcPrivateKey(der: Uint8Array, source: string): Sec1Key {
  const r = readDer(der, TAG.SEQUENCE, 'SEC1 ECPrivateKey');
  if (r.smallInteger(1, 'ECPrivateKey version') !== 1) throw new DerError('SEC1 ECPrivateKey: version must be 1');
  const d = r.octetString('the private key OCTET STRING');
  let curve: EcCurve | null = null;
  const params = r.optional(contextTag(0, true));
  if (params) {
    const pr = new DerReader(params, 'SEC1 ECPrivateKey parameters');
    curve = readCurveParameters(pr, source);
    pr.end();
  }
  let point: Uint8Array | null = null;
  const pub = r.optional(contextTag(1, true));
  if (pub) {
    const pr = new DerReader(pub, 'SEC1 ECPrivateKey publicKey');
    point = pr.bitString('the public key BIT STRING');
    pr.end();
  }
  r.end();
  return { curve, d, point };
}

/** SEC1 ECPrivateKey; `withCurve` adds the [0] parameters (traditional PEM has them, PKCS#8 omits them). */
export function encodeSec1EcPrivateKey(key: EcdsaPrivateKey, withCurve: boolean): Uint8Array {
  const parts = [derInteger(1), derOctetString(key.d)];
  if (withCurve) parts.push(derExplicit(0, derOid(CURVE_OIDS[key.curve])));
  parts.push(derExplicit(1, derBitString(key.publicKey.point)));
  return derSequence(...parts);
}

/** Build a checked RSA key; consistency failures become errors naming the file. */
export function rsaKeyFrom(rsa: RsaPrivateKey, options: ParsePrivateKeyOptions, source: string): RsaSshPrivateKey {
  try {
    return rsaPrivateKey(rsa, '', options.minRsaBits ?? RSA_MIN_MODULUS_BITS);
  } catch (err) {
    throw invalid(`${source}: ${(err as Error).message}`, err);
  }
}

/** Build an ECDSA key from SEC1 fields, deriving the public point and checking a stored one. */
export function ecKeyFrom(sec1: Sec1Key, curve: EcCurve, crypto: KeyDerivationCrypto, source: string): EcdsaPrivateKey {
  if (sec1.curve !== null && sec1.curve !== curve) throw invalid(`${source}: the key names two different curves`);
  if (sec1.d.length > ECDSA_CURVES[curve].fieldBytes) throw invalid(`${source}: the EC private key is longer than the curve allows`);
  let key: EcdsaPrivateKey;
  try {
    key = ecdsaPrivateKey(curve, sec1.d, crypto);
  } catch (err) {
    throw invalid(`${source}: ${(err as Error).message}`, err);
  }
  if (sec1.point !== null && !bytesEqual(sec1.point, key.publicKey.point)) {
    throw invalid(`${source}: the stored EC public key does not match the private key; the file is corrupt`);
  }
  return key;
}

// ---- traditional PEM private keys ----------------------------------------------------------------

export const TRADITIONAL_LABELS = ['RSA PRIVATE KEY', 'EC PRIVATE KEY'] as const;

/**
 * Parse an `RSA PRIVATE KEY` or `EC PRIVATE KEY` PEM file, decrypting it when its headers say it
 * is encrypted. Returns null when `text` holds neither label.
 */
export function parseTraditionalPemPrivateKey(text: string, options: ParsePrivateKeyOptions = {}): PrivateKey | null {
  const source = options.source ?? 'the key file';
  const block = findPemBlock(text, TRADITIONAL_LABELS, source);
  if (!block) return null;
  const encrypted = isLegacyEncrypted(block);
  const der = encrypted ? legacyDecrypt(block, options, source) : block.body;
  try {
    if (block.label === 'RSA PRIVATE KEY') return rsaKeyFrom(parsePkcs1RsaPrivateKey(der, source), options, source);
    const sec1 = parseSec1EcPrivateKey(der, source);
    if (sec1.curve === null) throw invalid(`${source}: the EC private key does not name its curve`);
    return ecKeyFrom(sec1, sec1.curve, options.crypto ?? pureCrypto, source);
  } catch (err) {
    // Decrypted with the wrong key, the body is noise that happened to end in valid padding.
    if (encrypted && (err instanceof DerError || (err instanceof KeyFormatError && err.code === 'KEY_FORMAT_INVALID'))) {
      throw wrongPassphrase(source, 'the decrypted key does not parse');
    }
    if (err instanceof DerError) throw invalid(`${source}: malformed ${block.label}: ${err.message}`, err);
    throw err;
  }
}

/**
 * Write an unencrypted traditional PEM file: PKCS#1 for RSA, SEC1 with the named curve for ECDSA
 * (what `ssh-keygen -m PEM -N ''` writes). Ed25519 has no traditional form; use PKCS#8.
 */
export function serializeTraditionalPemPrivateKey(key: PrivateKey): string {
  if (key.type === 'ssh-rsa') return formatPem('RSA PRIVATE KEY', encodePkcs1RsaPrivateKey(key.rsa));
  if (key.type === 'ssh-ed25519') throw new RangeError('Ed25519 keys have no traditional PEM form; write PKCS#8 instead');
  return formatPem('EC PRIVATE KEY', encodeSec1EcPrivateKey(key, true));
}
