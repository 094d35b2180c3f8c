/**
 * PKCS#8 private keys, plain and encrypted, and the algorithm identifiers they share with
 * SubjectPublicKeyInfo:
 *
 * - `PRIVATE KEY`: PrivateKeyInfo / OneAsymmetricKey (RFC 5208 section 5, RFC 5958 section 2),
 *   holding a PKCS#1 RSAPrivateKey (rsaEncryption, RFC 8017 appendix A.1), a SEC1 ECPrivateKey
 *   (id-ecPublicKey with a named curve, RFC 5480 section 2.1.1 and RFC 5915) or an Ed25519
 *   CurvePrivateKey (id-Ed25519 1.3.101.112, RFC 8410 sections 3 and 7).
 * - `ENCRYPTED PRIVATE KEY`: EncryptedPrivateKeyInfo (RFC 5958 section 3) with PBES2
 *   (RFC 8018 section 6.2 and appendix A.4): PBKDF2 (section 5.2, appendix A.2) with
 *   HMAC-SHA-1/224/256/384/512 and AES-128/192/256-CBC (appendix B.2.5, RFC 3565 OIDs) or
 *   DES-EDE3-CBC (B.2.2). PBES1 and PKCS#12 schemes are refused with advice.
 *
 * Writing produces what OpenSSL writes: version 0, no attributes, for Ed25519 no public key; the
 * encrypted form uses PBES2 with PBKDF2-HMAC-SHA-256, a 16-byte salt and AES-256-CBC.
 */
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import type { EcCurve, RandomSource } from '../crypto/provider.ts';
import { pureCrypto } from '../crypto/pure.ts';
import {
  DerError,
  DerReader,
  contextTag,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  readDer,
  TAG,
} from './der.ts';
import { KeyFormatError } from './errors.ts';
import {
  CBC_PARAMETERS,
  cbcDecryptPadded,
  cbcEncryptPadded,
  curveOid,
  ecKeyFrom,
  encodePkcs1RsaPrivateKey,
  encodeSec1EcPrivateKey,
  findPemBlock,
  formatPem,
  invalid,
  parsePkcs1RsaPrivateKey,
  parseSec1EcPrivateKey,
  passphraseNeeded,
  readCurveParameters,
  rsaKeyFrom,
  type CbcAlgorithm,
} from './pem.ts';
import {
  ed25519PrivateKey,
  hasPassphrase,
  passphraseBytes,
  wrongPassphrase,
  type ParsePrivateKeyOptions,
  type PrivateKey,
} from './private-key.ts';
import { bytesEqual } from './public-key.ts';

export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

/** Algorithms we recognise only to name them in a refusal. */
const UNSUPPORTED_KEY_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.3.101.113': 'Ed448',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.2.840.10046.2.1': 'Diffie-Hellman',
};

const PRFS: Readonly<Record<string, { name: string; hash: CHash }>> = {
  '1.2.840.113549.2.7': { name: 'hmacWithSHA1', hash: sha1 },
  '1.2.840.113549.2.8': { name: 'hmacWithSHA224', hash: sha224 },
  '1.2.840.113549.2.9': { name: 'hmacWithSHA256', hash: sha256 },
  '1.2.840.113549.2.10': { name: 'hmacWithSHA384', hash: sha384 },
  '1.2.840.113549.2.11': { name: 'hmacWithSHA512', hash: sha512 },
};
const HMAC_SHA256 = '1.2.840.113549.2.9';

const ENCRYPTION_SCHEMES: Readonly<Record<string, CbcAlgorithm>> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
};
const AES256_CBC = '2.16.840.1.101.3.4.1.42';

/**
 * PBKDF2 iteration counts above this are refused: an attacker-supplied file could otherwise make
 * us spin for minutes. OpenSSL writes 2048 by default; password managers use up to ~1M.
 */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** What we write: well above OpenSSL's 2048, still about a tenth of a second in pure code. */
export const DEFAULT_PBKDF2_ITERATIONS = 100_000;

// ---- key algorithm identifiers (shared with SPKI) -----------------------------------------------

export type KeyAlgorithm = { readonly kind: 'rsa' } | { readonly kind: 'ec'; readonly curve: EcCurve } | { readonly kind: 'ed25519' };

/** Read an AlgorithmIdentifier for a key (RFC 5280 4.1.1.2 with RFC 3279, 5480, 8410 parameters). */
export function readKeyAlgorithm(r: DerReader, source: string): KeyAlgorithm {
  const alg = r.sequence('the key AlgorithmIdentifier');
  const oid = alg.oid('the key algorithm OID');
  let result: KeyAlgorithm;
  if (oid === OID.rsaEncryption) {
    // RFC 3279 2.3.1 says NULL; some writers omit it, which is harmless.
    if (!alg.done) alg.null();
    result = { kind: 'rsa' };
  } else if (oid === OID.ecPublicKey) {
    result = { kind: 'ec', curve: readCurveParameters(alg, source) };
  } else if (oid === OID.ed25519) {
    // RFC 8410 section 3: the parameters MUST be absent.
    result = { kind: 'ed25519' };
  } else {
    const name = UNSUPPORTED_KEY_ALGORITHMS[oid];
    throw new KeyFormatError(
      'KEY_TYPE_UNSUPPORTED',
      `${source}: ${name ? `${name} keys are` : `the key algorithm ${oid} is`} not supported; use an ed25519, ecdsa or rsa key`,
    );
  }
  alg.end();
  return result;
}

export function encodeKeyAlgorithm(key: PrivateKey | { type: PrivateKey['type']; curve?: EcCurve }): Uint8Array {
  if (key.type === 'ssh-rsa') return derSequence(derOid(OID.rsaEncryption), derNull());
  if (key.type === 'ssh-ed25519') return derSequence(derOid(OID.ed25519));
  return derSequence(derOid(OID.ecPublicKey), derOid(curveOid((key as { curve: EcCurve }).curve)));
}

// ---- PrivateKeyInfo ----------------------------------------------------------------------------

/** Parse PrivateKeyInfo / OneAsymmetricKey DER. Structure errors are DerErrors or KeyFormatErrors. */
export function parsePrivateKeyInfo(der: Uint8Array, options: ParsePrivateKeyOptions, source: string): PrivateKey {
  const r = readDer(der, TAG.SEQUENCE, 'PKCS#8 PrivateKeyInfo');
  const version = r.smallInteger(1, 'PrivateKeyInfo version');
  const algorithm = readKeyAlgorithm(r, source);
  const inner = r.octetString('the privateKey OCTET STRING');
  r.optional(contextTag(0, true)); // attributes: nothing in them matters to SSH
  const publicKey = r.optional(contextTag(1, false));
  if (publicKey && version !== 1) throw new DerError('PKCS#8 PrivateKeyInfo: a public key needs version 2 (v2 = 1)');
  r.end();
  const crypto = options.crypto ?? pureCrypto;
  switch (algorithm.kind) {
    case 'rsa':
      return rsaKeyFrom(parsePkcs1RsaPrivateKey(inner, source), options, source);
    case 'ec':
      return ecKeyFrom(parseSec1EcPrivateKey(inner, source), algorithm.curve, crypto, source);
    case 'ed25519': {
      const seed = new DerReader(inner, 'Ed25519 CurvePrivateKey');
      const bytes = seed.octetString('the Ed25519 private key');
      seed.end();
      if (bytes.length !== 32) throw new DerError(`Ed25519 CurvePrivateKey: the key is ${bytes.length} bytes, expected 32`);
      const key = ed25519PrivateKey(bytes, crypto);
      if (publicKey) {
        // [1] IMPLICIT BIT STRING: leading unused-bits octet, then the 32-byte key.
        if (publicKey.length !== 33 || publicKey[0] !== 0 || !bytesEqual(publicKey.subarray(1), key.publicKey.key)) {
          throw invalid(`${source}: the stored Ed25519 public key does not match the private key; the file is corrupt`);
        }
      }
      return key;
    }
  }
}

export function encodePrivateKeyInfo(key: PrivateKey): Uint8Array {
  let inner: Uint8Array;
  switch (key.type) {
    case 'ssh-rsa':
      inner = encodePkcs1RsaPrivateKey(key.rsa);
      break;
    case 'ssh-ed25519':
      inner = derOctetString(key.seed);
      break;
    default:
      inner = encodeSec1EcPrivateKey(key, false);
  }
  return derSequence(derInteger(0), encodeKeyAlgorithm(key), derOctetString(inner));
}

// ---- EncryptedPrivateKeyInfo -------------------------------------------------------------------

type Pbes2 = {
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly keyLength: number | null;
  readonly prf: { name: string; hash: CHash };
  readonly cipher: CbcAlgorithm;
  readonly iv: Uint8Array;
};

function unsupportedScheme(source: string, what: string): KeyFormatError {
  return new KeyFormatError(
    'KEY_FORMAT_UNSUPPORTED',
    `${source} is encrypted with ${what}, which is not supported (PBES2 with PBKDF2 and AES-CBC or DES-EDE3-CBC is); ` +
      `convert it with: openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in <file> -out <new file>`,
  );
}

function readPbes2(alg: DerReader, source: string): Pbes2 {
  const oid = alg.oid('the encryption algorithm OID');
  if (oid !== OID.pbes2) {
    const known: Record<string, string> = {
      '1.2.840.113549.1.5.3': 'PBES1 (pbeWithMD5AndDES-CBC)',
      '1.2.840.113549.1.5.10': 'PBES1 (pbeWithSHA1AndDES-CBC)',
      '1.2.840.113549.1.12.1.3': 'PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC',
      '1.2.840.113549.1.12.1.6': 'PKCS#12 pbeWithSHAAnd40BitRC2-CBC',
    };
    throw unsupportedScheme(source, known[oid] ?? `the scheme ${oid}`);
  }
  const params = alg.sequence('PBES2-params');
  alg.end();
  const kdf = params.sequence('the key derivation AlgorithmIdentifier');
  const kdfOid = kdf.oid('the key derivation OID');
  if (kdfOid !== OID.pbkdf2) throw unsupportedScheme(source, kdfOid === '1.3.6.1.4.1.11591.4.11' ? 'PBES2 with scrypt' : `PBES2 with the key derivation ${kdfOid}`);
  const p = kdf.sequence('PBKDF2-params');
  kdf.end();
  // RFC 8018 A.2: the salt CHOICE's "otherSource" alternative is reserved; only specified salts exist.
  const salt = p.octetString('the PBKDF2 salt');
  const iterations = p.smallInteger(Number.MAX_SAFE_INTEGER, 'PBKDF2 iteration count');
  const keyLength = p.peekTag() === TAG.INTEGER ? p.smallInteger(64, 'PBKDF2 key length') : null;
  let prf = PRFS['1.2.840.113549.2.7']!; // DEFAULT algid-hmacWithSHA1
  if (!p.done) {
    const prfAlg = p.sequence('the PBKDF2 PRF AlgorithmIdentifier');
    const prfOid = prfAlg.oid('the PRF OID');
    if (!prfAlg.done) prfAlg.null();
    prfAlg.end();
    const known = PRFS[prfOid];
    if (!known) throw unsupportedScheme(source, `PBKDF2 with the PRF ${prfOid}`);
    prf = known;
  }
  p.end();
  const enc = params.sequence('the encryption scheme AlgorithmIdentifier');
  const encOid = enc.oid('the encryption scheme OID');
  const cipher = ENCRYPTION_SCHEMES[encOid];
  if (!cipher) throw unsupportedScheme(source, `PBES2 with the cipher ${encOid}`);
  const iv = enc.octetString('the cipher IV');
  enc.end();
  params.end();
  if (iv.length !== CBC_PARAMETERS[cipher].ivLength) throw new DerError(`PBES2: the ${cipher} IV is ${iv.length} bytes`);
  if (keyLength !== null && keyLength !== CBC_PARAMETERS[cipher].keyLength) throw new DerError(`PBES2: key length ${keyLength} does not fit ${cipher}`);
  if (iterations < 1) throw new DerError('PBKDF2: the iteration count must be at least 1');
  return { salt, iterations, keyLength, prf, cipher, iv };
}

/** Decrypt EncryptedPrivateKeyInfo DER to PrivateKeyInfo DER. */
export function decryptPkcs8(der: Uint8Array, options: ParsePrivateKeyOptions, source: string): Uint8Array {
  let scheme: Pbes2;
  let data: Uint8Array;
  try {
    const r = readDer(der, TAG.SEQUENCE, 'PKCS#8 EncryptedPrivateKeyInfo');
    scheme = readPbes2(r.sequence('the encryption AlgorithmIdentifier'), source);
    data = r.octetString('the encrypted data');
    r.end();
  } catch (err) {
    if (err instanceof DerError) throw invalid(`${source}: malformed ENCRYPTED PRIVATE KEY: ${err.message}`, err);
    throw err;
  }
  const maxIterations = options.maxPbkdf2Iterations ?? MAX_PBKDF2_ITERATIONS;
  if (scheme.iterations > maxIterations) {
    throw invalid(
      `${source}: PBKDF2 iteration count ${scheme.iterations} is above the limit of ${maxIterations}; a file asking for that ` +
        `much work is damaged or hostile (re-encrypt a trusted key with: openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 100000)`,
    );
  }
  if (!hasPassphrase(options.passphrase)) throw passphraseNeeded(source, 'a PKCS#8 private key');
  const key = pbkdf2(scheme.prf.hash, passphraseBytes(options.passphrase), scheme.salt, {
    c: scheme.iterations,
    dkLen: CBC_PARAMETERS[scheme.cipher].keyLength,
  });
  const plain = cbcDecryptPadded(scheme.cipher, key, scheme.iv, data);
  key.fill(0);
  if (!plain) throw wrongPassphrase(source, 'the decrypted padding is wrong');
  return plain;
}

export type Pkcs8WriteOptions = {
  /** Encrypt with PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC) when non-empty. */
  readonly passphrase?: string | Uint8Array;
  /** PBKDF2 iterations; default {@link DEFAULT_PBKDF2_ITERATIONS}. */
  readonly iterations?: number;
};

export function encryptPkcs8(info: Uint8Array, passphrase: string | Uint8Array, random: RandomSource, iterations = DEFAULT_PBKDF2_ITERATIONS): Uint8Array {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be an integer from 1 to ${MAX_PBKDF2_ITERATIONS}`);
  }
  const salt = random(16).slice();
  const iv = random(16).slice();
  const key = pbkdf2(sha256, passphraseBytes(passphrase), salt, { c: iterations, dkLen: 32 });
  const encrypted = cbcEncryptPadded('aes-256-cbc', key, iv, info);
  key.fill(0);
  const algorithm = derSequence(
    derOid(OID.pbes2),
    derSequence(
      derSequence(derOid(OID.pbkdf2), derSequence(derOctetString(salt), derInteger(iterations), derSequence(derOid(HMAC_SHA256), derNull()))),
      derSequence(derOid(AES256_CBC), derOctetString(iv)),
    ),
  );
  return derSequence(algorithm, derOctetString(encrypted));
}

// ---- PEM entry points ----------------------------------------------------------------------------

export const PKCS8_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'] as const;

/** Parse a `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` PEM file; null when `text` has neither. */
export function parsePkcs8PrivateKey(text: string, options: ParsePrivateKeyOptions = {}): PrivateKey | null {
  const source = options.source ?? 'the key file';
  const block = findPemBlock(text, PKCS8_LABELS, source);
  if (!block) return null;
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY';
  const der = encrypted ? decryptPkcs8(block.body, options, source) : block.body;
  try {
    return parsePrivateKeyInfo(der, options, source);
  } catch (err) {
    if (encrypted && (err instanceof DerError || (err instanceof KeyFormatError && err.code === 'KEY_FORMAT_INVALID'))) {
      throw wrongPassphrase(source, 'the decrypted key does not parse');
    }
    if (err instanceof DerError) throw invalid(`${source}: malformed PKCS#8 private key: ${err.message}`, err);
    throw err;
  }
}

/**
 * Write `key` as PKCS#8 PEM: `PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` when a passphrase is given
 * (then `random` supplies the salt and IV).
 */
export function serializePkcs8PrivateKey(key: PrivateKey, random: RandomSource, options: Pkcs8WriteOptions = {}): string {
  const info = encodePrivateKeyInfo(key);
  if (!hasPassphrase(options.passphrase)) return formatPem('PRIVATE KEY', info);
  const encrypted = encryptPkcs8(info, options.passphrase, random, options.iterations);
  info.fill(0);
  return formatPem('ENCRYPTED PRIVATE KEY', encrypted);
}
