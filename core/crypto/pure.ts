/**
 * The pure {@link CryptoProvider}: runs wherever JavaScript does. Hashes and HMAC (RFC 6668,
 * RFC 4253 section 6.4), AES-CTR (RFC 4344) and AES-GCM (RFC 5647) come from @noble/hashes and
 * @noble/ciphers; ChaCha20 and Poly1305 (PROTOCOL.chacha20poly1305, RFC 8439) from core/cipher's
 * own implementations, which are faster than the generic ones on the packet path; X25519 (RFC 7748),
 * Ed25519 (RFC 8032) and ECDH/ECDSA on the NIST curves (RFC 5656, deterministic nonces per RFC 6979)
 * from @noble/curves. RSASSA-PKCS1-v1_5 (RFC 8017 sections 8.2 and 9.2) is done here with BigInt
 * and the Chinese remainder theorem, since the available pure RSA library signs without CRT.
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { hmac } from '@noble/hashes/hmac.js';
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import type {
  AeadCipher, CryptoProvider, EcCurve, Hasher, HashName, RsaPrivateKey, RsaPublicKey, StreamCipher,
} from './provider.ts';
import { kexError } from '../errors.ts';
import { chacha20 } from '../cipher/primitives/chacha20.ts';
import { poly1305 } from '../cipher/primitives/poly1305.ts';
import { constantTimeEqual } from '../cipher/ct.ts';
import { bytesToBigint } from '../wire/reader.ts';
import { bigintToBytes } from '../wire/writer.ts';

const hashes = { sha1, sha256, sha384, sha512 } as const;
const curves = { p256, p384, p521 } as const;
/** Field element size in bytes: the length of a private scalar and of each point coordinate. */
export const ecFieldLength: Record<EcCurve, number> = { p256: 32, p384: 48, p521: 66 };
/** Group order n of each curve (SEC 2 / FIPS 186), for signature range checks. */
export const ecCurveOrder: Record<EcCurve, bigint> = { p256: p256.Point.CURVE().n, p384: p384.Point.CURVE().n, p521: p521.Point.CURVE().n };

function hashFn(alg: HashName) {
  const h = hashes[alg];
  if (!h) throw new RangeError(`unknown hash ${String(alg)}`);
  return h;
}

// ---------------------------------------------------------------------------------------------
// AES-CTR as a stream: noble's ctr() restarts at its IV on every call, SSH needs one continuous
// keystream per direction (RFC 4344 section 4), so the counter block and unused keystream are kept.

function addToCounter(counter: Uint8Array, n: number): void {
  let carry = n;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const v = counter[i]! + (carry % 256);
    counter[i] = v & 0xff;
    carry = Math.floor(carry / 256) + (v >> 8);
  }
}

class PureAesCtr implements StreamCipher {
  private readonly counter: Uint8Array;
  private readonly spare = new Uint8Array(16);
  private spareUsed = 16;

  constructor(private readonly key: Uint8Array, iv: Uint8Array) {
    // Advanced in place, so a private copy (a Node buffer's slice would alias the caller's IV).
    this.counter = new Uint8Array(iv);
  }

  update(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length);
    let pos = 0;
    while (pos < data.length && this.spareUsed < 16) out[pos] = data[pos++]! ^ this.spare[this.spareUsed++]!;
    const full = (data.length - pos) & ~15;
    if (full > 0) {
      out.set(ctr(this.key, this.counter.slice()).encrypt(data.subarray(pos, pos + full)), pos);
      addToCounter(this.counter, full / 16);
      pos += full;
    }
    if (pos < data.length) {
      this.spare.set(ctr(this.key, this.counter.slice()).encrypt(new Uint8Array(16)));
      addToCounter(this.counter, 1);
      this.spareUsed = 0;
      while (pos < data.length) out[pos] = data[pos++]! ^ this.spare[this.spareUsed++]!;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Modular exponentiation: left-to-right sliding window over the exponent's bits.

export function modPowBigint(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus <= 0n) throw new RangeError('modPow: modulus must be positive');
  if (exponent < 0n) throw new RangeError('modPow: negative exponent');
  if (modulus === 1n) return 0n;
  let b = base % modulus;
  if (b < 0n) b += modulus;
  if (exponent === 0n) return 1n;
  const bits = exponent.toString(2);
  const n = bits.length;
  const w = n > 768 ? 6 : n > 256 ? 5 : n > 64 ? 4 : n > 16 ? 3 : 1;
  // Odd powers b^1, b^3, ..., b^(2^w - 1).
  const table: bigint[] = [b];
  if (w > 1) {
    const b2 = (b * b) % modulus;
    for (let i = 1; i < 1 << (w - 1); i++) table.push((table[i - 1]! * b2) % modulus);
  }
  let r = 1n;
  let started = false;
  let i = 0;
  while (i < n) {
    if (bits.charCodeAt(i) === 48) {
      if (started) r = (r * r) % modulus;
      i++;
      continue;
    }
    // Longest window of at most w bits starting here and ending in a 1.
    let j = Math.min(i + w, n) - 1;
    while (bits.charCodeAt(j) === 48) j--;
    let value = 0;
    for (let k = i; k <= j; k++) {
      value = (value << 1) | (bits.charCodeAt(k) - 48);
      if (started) r = (r * r) % modulus;
    }
    r = started ? (r * table[(value - 1) >> 1]!) % modulus : table[(value - 1) >> 1]!;
    started = true;
    i = j + 1;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// RSASSA-PKCS1-v1_5 (RFC 8017 section 8.2) with EMSA-PKCS1-v1_5 encoding (section 9.2).

/** DER DigestInfo prefixes from RFC 8017 section 9.2, note 1. */
const digestInfoPrefix: Record<HashName, Uint8Array> = {
  sha1: Uint8Array.of(0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14),
  sha256: Uint8Array.of(0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20),
  sha384: Uint8Array.of(0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30),
  sha512: Uint8Array.of(0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40),
};

export function byteLength(n: bigint): number {
  return (n.toString(16).length + 1) >> 1;
}

/** EM = 0x00 || 0x01 || PS (0xff...) || 0x00 || DigestInfo, emLen bytes; null if emLen is too short. */
export function emsaPkcs1v15(hash: HashName, message: Uint8Array, emLen: number): Uint8Array | null {
  const prefix = digestInfoPrefix[hash];
  if (!prefix) throw new RangeError(`unknown hash ${String(hash)}`);
  const digest = hashFn(hash)(message);
  const tLen = prefix.length + digest.length;
  if (emLen < tLen + 11) return null;
  const em = new Uint8Array(emLen);
  em[1] = 0x01;
  em.fill(0xff, 2, emLen - tLen - 1);
  em.set(prefix, emLen - tLen);
  em.set(digest, emLen - digest.length);
  return em;
}

const crtCache = new WeakMap<RsaPrivateKey, { dp: bigint; dq: bigint }>();

function rsaSignPure(key: RsaPrivateKey, hash: HashName, message: Uint8Array): Uint8Array {
  const k = byteLength(key.n);
  const em = emsaPkcs1v15(hash, message, k);
  if (!em) throw new RangeError('RSA modulus too short for this hash');
  const m = bytesToBigint(em);
  let crt = crtCache.get(key);
  if (!crt) {
    crt = { dp: key.d % (key.p - 1n), dq: key.d % (key.q - 1n) };
    crtCache.set(key, crt);
  }
  // RFC 8017 section 5.1.2, step 2.b (qInv = iqmp).
  const s1 = modPowBigint(m, crt.dp, key.p);
  const s2 = modPowBigint(m, crt.dq, key.q);
  let h = ((s1 - s2) * key.iqmp) % key.p;
  if (h < 0n) h += key.p;
  const s = s2 + key.q * h;
  // A fault in the CRT halves would leak a factor of n; checking with the public exponent is cheap.
  if (modPowBigint(s, key.e, key.n) !== m) throw new Error('RSA signature self-check failed (inconsistent key)');
  return bigintToBytes(s, k);
}

/**
 * Signatures shorter than the modulus are left-padded before verification, as OpenSSH does for
 * peers that strip leading zero bytes; longer ones are rejected (RFC 8017 8.2.2 step 1).
 */
function rsaVerifyPure(key: RsaPublicKey, hash: HashName, message: Uint8Array, signature: Uint8Array): boolean {
  const k = byteLength(key.n);
  if (signature.length > k || signature.length === 0) return false;
  const s = bytesToBigint(signature);
  if (s >= key.n) return false;
  const em = emsaPkcs1v15(hash, message, k);
  if (!em) return false;
  return constantTimeEqual(bigintToBytes(modPowBigint(s, key.e, key.n), k), em);
}

// ---------------------------------------------------------------------------------------------
// Curves.

/** A private scalar as exactly the field length (callers may hand over a stripped mpint). */
export function normalizeScalar(curve: EcCurve, privateKey: Uint8Array): Uint8Array {
  const len = ecFieldLength[curve];
  if (privateKey.length === len) return privateKey;
  let start = 0;
  while (start < privateKey.length && privateKey[start] === 0) start++;
  const magnitude = privateKey.subarray(start);
  if (magnitude.length > len) throw new RangeError(`${curve} private key too long`);
  const out = new Uint8Array(len);
  out.set(magnitude, len - magnitude.length);
  return out;
}

/**
 * True if `point` is an uncompressed SEC1 encoding of the right length. OpenSSH neither accepts
 * nor generates compressed points (PROTOCOL section 1.4), and requiring one form keeps both
 * providers in step.
 */
export function isUncompressedPoint(curve: EcCurve, point: Uint8Array): boolean {
  return point.length === 1 + 2 * ecFieldLength[curve] && point[0] === 0x04;
}

export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

function curveFor(curve: EcCurve) {
  const c = curves[curve];
  if (!c) throw new RangeError(`unknown curve ${String(curve)}`);
  return c;
}

function wrapHasher(h: { update(d: Uint8Array): unknown; digest(): Uint8Array }): Hasher {
  const hasher: Hasher = {
    update(data) {
      h.update(data);
      return hasher;
    },
    digest: () => h.digest(),
  };
  return hasher;
}

export const pureCrypto: CryptoProvider = {
  name: 'pure',

  createHash: (alg) => wrapHasher(hashFn(alg).create()),
  hash: (alg, data) => hashFn(alg)(data),
  hmac: (alg, key, data) => hmac(hashFn(alg), key, data),
  createHmac(alg, key) {
    // Keyed once; each MAC clones the keyed state so the key is never re-hashed.
    const keyed = hmac.create(hashFn(alg), key);
    return (parts) => {
      const h = keyed.clone();
      for (const p of parts) h.update(p);
      return h.digest();
    };
  },

  createAesCtr(key, iv) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError('AES key must be 16, 24 or 32 bytes');
    if (iv.length !== 16) throw new RangeError('AES-CTR IV must be 16 bytes');
    return new PureAesCtr(new Uint8Array(key), iv);
  },

  createAesGcm(key): AeadCipher {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError('AES key must be 16, 24 or 32 bytes');
    const k = new Uint8Array(key);
    return {
      seal: (nonce, aad, plaintext) => gcm(k, nonce, aad).encrypt(plaintext),
      open(nonce, aad, ciphertextAndTag) {
        if (nonce.length !== 12 || ciphertextAndTag.length < 16) return null;
        try {
          return gcm(k, nonce, aad).decrypt(ciphertextAndTag);
        } catch {
          return null;
        }
      },
    };
  },

  chacha20: (key, nonce8, counter, data) => chacha20(key, nonce8, counter, data),
  poly1305: (key, message) => poly1305(key, message),

  x25519PublicKey: (privateKey) => x25519.getPublicKey(privateKey),
  x25519SharedSecret(privateKey, peerPublicKey) {
    if (peerPublicKey.length !== 32) throw kexError('X25519 public key must be 32 bytes');
    let secret: Uint8Array;
    try {
      secret = x25519.getSharedSecret(privateKey, peerPublicKey);
    } catch {
      // noble refuses low-order inputs, whose result is the all-zero value RFC 7748 section 6.1 forbids.
      throw kexError('X25519 shared secret is all zero');
    }
    if (isAllZero(secret)) throw kexError('X25519 shared secret is all zero');
    return secret;
  },

  ecdhPublicKey: (curve, privateKey) => curveFor(curve).getPublicKey(normalizeScalar(curve, privateKey), false),
  ecdhSharedSecret(curve, privateKey, peerPublicKey) {
    const c = curveFor(curve);
    if (!isUncompressedPoint(curve, peerPublicKey)) throw kexError(`${curve} public key is not an uncompressed point`);
    let shared: Uint8Array;
    try {
      shared = c.getSharedSecret(normalizeScalar(curve, privateKey), peerPublicKey, true);
    } catch {
      throw kexError(`${curve} public key is not a point on the curve`);
    }
    return shared.subarray(1);
  },

  modPow: modPowBigint,

  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, message) => ed25519.sign(message, seed),
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      // Strict RFC 8032 decoding, as OpenSSL does, so both providers accept the same signatures.
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },

  ecdsaSign(curve, privateKey, message) {
    const c = curveFor(curve);
    const len = ecFieldLength[curve];
    // RFC 6979 deterministic nonce; high S is left alone as OpenSSH/OpenSSL do.
    const sig = c.sign(message, normalizeScalar(curve, privateKey), { lowS: false, prehash: true, format: 'compact' });
    return { r: bytesToBigint(sig.subarray(0, len)), s: bytesToBigint(sig.subarray(len)) };
  },
  ecdsaVerify(curve, publicKey, message, r, s) {
    const c = curveFor(curve);
    const len = ecFieldLength[curve];
    if (!isUncompressedPoint(curve, publicKey)) return false;
    const n = ecCurveOrder[curve];
    if (r <= 0n || s <= 0n || r >= n || s >= n) return false;
    const sig = new Uint8Array(2 * len);
    sig.set(bigintToBytes(r, len));
    sig.set(bigintToBytes(s, len), len);
    try {
      return c.verify(sig, message, publicKey, { lowS: false, prehash: true, format: 'compact' });
    } catch {
      return false;
    }
  },
  ecdsaPublicKey: (curve, privateKey) => curveFor(curve).getPublicKey(normalizeScalar(curve, privateKey), false),

  rsaSign: rsaSignPure,
  rsaVerify(key, hash, message, signature) {
    try {
      return rsaVerifyPure(key, hash, message, signature);
    } catch {
      return false;
    }
  },
};
