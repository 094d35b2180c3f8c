/**
 * The node:crypto {@link CryptoProvider}: the same primitives as core/crypto/pure.ts, computed by
 * OpenSSL. Hashes/HMAC (RFC 6668), AES-CTR (RFC 4344) and AES-GCM (RFC 5647), ChaCha20 in its
 * original 64-bit-nonce form (PROTOCOL.chacha20poly1305) through OpenSSL's "chacha20" cipher,
 * X25519 (RFC 7748), Ed25519 (RFC 8032), ECDH/ECDSA on the NIST curves (RFC 5656) and
 * RSASSA-PKCS1-v1_5 (RFC 8017, RFC 8332). Node has no one-shot Poly1305, so that one stays in
 * JavaScript (core's implementation); modPow uses OpenSSL's DH for the well-known MODP groups and
 * BigInt otherwise.
 *
 * Every function must return exactly the bytes the pure provider returns for the same inputs
 * (property-tests/providers.test.ts checks it); ECDSA signatures differ only because OpenSSL draws
 * a random nonce, so there the two only cross-verify.
 */
import * as nc from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  type AeadCipher,
  type AeadWithAadPrefix,
  bigintToBytes,
  bytesToBigint,
  type CryptoProvider,
  type EcCurve,
  ecCurveOrder,
  ecFieldLength,
  type HashName,
  isAllZero,
  isUncompressedPoint,
  kexError,
  modPowBigint,
  normalizeScalar,
  poly1305,
  type RsaPrivateKey,
  type RsaPublicKey,
} from '../../core/index.ts';

/** A plain Uint8Array view of a Buffer's bytes (no copy), so callers never see Buffer methods. */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function hashName(alg: HashName): string {
  if (alg !== 'sha1' && alg !== 'sha256' && alg !== 'sha384' && alg !== 'sha512') throw new RangeError(`unknown hash ${String(alg)}`);
  return alg;
}

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function bigB64u(v: bigint, length?: number): string {
  return b64u(bigintToBytes(v, length));
}

function concat(a: Uint8Array, b: Uint8Array): Buffer {
  return Buffer.concat([a, b]);
}

/**
 * KeyObjects cached per key array: importing a key costs more than using it. The cached copy of
 * the bytes guards against a caller that reuses the same array for another key.
 */
class KeyCache<T> {
  private readonly map = new WeakMap<Uint8Array, { bytes: Uint8Array; value: T }>();
  get(key: Uint8Array, make: () => T): T {
    const hit = this.map.get(key);
    if (hit && hit.bytes.length === key.length && hit.bytes.every((b, i) => b === key[i])) return hit.value;
    const value = make();
    this.map.set(key, { bytes: new Uint8Array(key), value });
    return value;
  }
}

// DER prefixes for raw 32-byte keys: PKCS#8 (RFC 5958 / RFC 8410) and SubjectPublicKeyInfo.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

const x25519Keys = new KeyCache<KeyObject>();
const ed25519Keys = new KeyCache<KeyObject>();
const ed25519PublicKeys = new KeyCache<KeyObject>();

/**
 * OpenSSL 3's DER decoder costs close to a millisecond per key on this hardware, several times a
 * whole handshake's other work. Node's JWK path builds X25519/Ed25519 keys straight from the raw
 * bytes (deriving the public half from `d`), so it is used when a self-check at load time shows
 * it gives the right key; otherwise, and whenever it throws, the DER path stays.
 */
function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function okpPrivateDer(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  return nc.createPrivateKey({ key: concat(crv === 'X25519' ? X25519_PKCS8 : ED25519_PKCS8, raw), format: 'der', type: 'pkcs8' });
}

function okpPublicDer(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  return nc.createPublicKey({ key: concat(crv === 'X25519' ? X25519_SPKI : ED25519_SPKI, raw), format: 'der', type: 'spki' });
}

const jwkImportWorks = ((): boolean => {
  try {
    // RFC 7748 section 6.1, Alice's key pair.
    const d = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    const x = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex');
    const k = nc.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(d), x: '' }, format: 'jwk' });
    const pub = rawPublic(nc.createPublicKey(k));
    const viaJwk = nc.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(x) }, format: 'jwk' });
    return Buffer.from(pub).equals(x) && Buffer.from(rawPublic(viaJwk)).equals(x);
  } catch {
    return false;
  }
})();

function okpPrivate(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  if (jwkImportWorks) {
    try {
      return nc.createPrivateKey({ key: { kty: 'OKP', crv, d: b64url(raw), x: '' }, format: 'jwk' });
    } catch {
      // fall through to DER
    }
  }
  return okpPrivateDer(crv, raw);
}

function okpPublic(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  if (jwkImportWorks) {
    try {
      return nc.createPublicKey({ key: { kty: 'OKP', crv, x: b64url(raw) }, format: 'jwk' });
    } catch {
      // fall through to DER, which also reports malformed keys
    }
  }
  return okpPublicDer(crv, raw);
}

function x25519Private(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
  return x25519Keys.get(raw, () => okpPrivate('X25519', raw));
}

function ed25519Private(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('Ed25519 seed must be 32 bytes');
  return ed25519Keys.get(seed, () => okpPrivate('Ed25519', seed));
}

function rawPublic(key: KeyObject): Uint8Array {
  // The JWK export is the raw key already (and ~40x cheaper than encoding SPKI DER here).
  const x = (key.export({ format: 'jwk' }) as { x?: string }).x;
  if (typeof x === 'string') return view(Buffer.from(x, 'base64url'));
  return view(key.export({ format: 'der', type: 'spki' })).slice(-32);
}

// ---------------------------------------------------------------------------------------------

const curveNames: Record<EcCurve, { openssl: string; jwk: string }> = {
  p256: { openssl: 'prime256v1', jwk: 'P-256' },
  p384: { openssl: 'secp384r1', jwk: 'P-384' },
  p521: { openssl: 'secp521r1', jwk: 'P-521' },
};
const curveHash: Record<EcCurve, string> = { p256: 'sha256', p384: 'sha384', p521: 'sha512' };

function curveInfo(curve: EcCurve) {
  const names = curveNames[curve];
  if (!names) throw new RangeError(`unknown curve ${String(curve)}`);
  return names;
}

const ecdhKeys = new KeyCache<nc.ECDH>();
const ecdsaKeys = new KeyCache<KeyObject>();
const ecdsaPublicKeys = new KeyCache<KeyObject>();

/** An ECDH object holding this private key; setPrivateKey also derives (and checks) the public point. */
function ecdhFor(curve: EcCurve, privateKey: Uint8Array): nc.ECDH {
  const names = curveInfo(curve);
  return ecdhKeys.get(privateKey, () => {
    const e = nc.createECDH(names.openssl);
    e.setPrivateKey(normalizeScalar(curve, privateKey));
    return e;
  });
}

function ecPublic(curve: EcCurve, privateKey: Uint8Array): Uint8Array {
  return view(ecdhFor(curve, privateKey).getPublicKey()).slice();
}

function ecdsaPrivate(curve: EcCurve, privateKey: Uint8Array): KeyObject {
  return ecdsaKeys.get(privateKey, () => {
    const len = ecFieldLength[curve];
    const pub = ecPublic(curve, privateKey);
    return nc.createPrivateKey({
      key: {
        kty: 'EC',
        crv: curveInfo(curve).jwk,
        d: b64u(normalizeScalar(curve, privateKey)),
        x: b64u(pub.subarray(1, 1 + len)),
        y: b64u(pub.subarray(1 + len)),
      },
      format: 'jwk',
    });
  });
}

function ecdsaPublic(curve: EcCurve, publicKey: Uint8Array): KeyObject {
  return ecdsaPublicKeys.get(publicKey, () => {
    const len = ecFieldLength[curve];
    return nc.createPublicKey({
      key: { kty: 'EC', crv: curveInfo(curve).jwk, x: b64u(publicKey.subarray(1, 1 + len)), y: b64u(publicKey.subarray(1 + len)) },
      format: 'jwk',
    });
  });
}

// ---------------------------------------------------------------------------------------------

const rsaPrivateKeys = new WeakMap<RsaPrivateKey, KeyObject>();
const rsaPublicKeys = new WeakMap<RsaPublicKey, KeyObject>();

function rsaPrivate(key: RsaPrivateKey): KeyObject {
  let k = rsaPrivateKeys.get(key);
  if (!k) {
    k = nc.createPrivateKey({
      key: {
        kty: 'RSA',
        n: bigB64u(key.n),
        e: bigB64u(key.e),
        d: bigB64u(key.d),
        p: bigB64u(key.p),
        q: bigB64u(key.q),
        dp: bigB64u(key.d % (key.p - 1n)),
        dq: bigB64u(key.d % (key.q - 1n)),
        qi: bigB64u(key.iqmp),
      },
      format: 'jwk',
    });
    rsaPrivateKeys.set(key, k);
  }
  return k;
}

function rsaPublic(key: RsaPublicKey): KeyObject {
  let k = rsaPublicKeys.get(key);
  if (!k) {
    k = nc.createPublicKey({ key: { kty: 'RSA', n: bigB64u(key.n), e: bigB64u(key.e) }, format: 'jwk' });
    rsaPublicKeys.set(key, k);
  }
  return k;
}

function byteLength(n: bigint): number {
  return (n.toString(16).length + 1) >> 1;
}

// ---------------------------------------------------------------------------------------------
// modPow: OpenSSL's constant-time Montgomery exponentiation is several times faster than BigInt,
// but building a DiffieHellman object runs DH_check (primality tests: seconds for 4096 bits) for an
// unknown prime. So OpenSSL is used only for the primes of its built-in MODP groups, which cover
// the fixed-group key exchanges; anything else (group exchange primes) goes to BigInt.

let namedPrimes: Set<bigint> | null = null;
const dhByPrime = new Map<bigint, nc.DiffieHellman>();

function isNamedPrime(p: bigint): boolean {
  if (!namedPrimes) {
    namedPrimes = new Set();
    for (const name of ['modp1', 'modp2', 'modp5', 'modp14', 'modp15', 'modp16', 'modp17', 'modp18']) {
      try {
        namedPrimes.add(bytesToBigint(view(nc.getDiffieHellman(name).getPrime())));
      } catch {
        // A Node built without this group simply does not get the fast path for it.
      }
    }
  }
  return namedPrimes.has(p);
}

function modPowNode(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus > 3n && exponent > 0n && base > 1n && base < modulus - 1n && isNamedPrime(modulus)) {
    try {
      let dh = dhByPrime.get(modulus);
      if (!dh) {
        dh = nc.createDiffieHellman(bigintToBytes(modulus), Uint8Array.of(2));
        dhByPrime.set(modulus, dh);
      }
      dh.setPrivateKey(bigintToBytes(exponent));
      if (base === 2n) {
        dh.generateKeys();
        return bytesToBigint(view(dh.getPublicKey()));
      }
      return bytesToBigint(view(dh.computeSecret(bigintToBytes(base))));
    } catch {
      // OpenSSL refuses some values (public-key range checks); BigInt gives the same answer.
    }
  }
  return modPowBigint(base, exponent, modulus);
}

// ---------------------------------------------------------------------------------------------

function aesName(key: Uint8Array, mode: 'ctr' | 'gcm'): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError('AES key must be 16, 24 or 32 bytes');
  return `aes-${key.length * 8}-${mode}`;
}

/**
 * AES-GCM on OpenSSL. Besides the AeadCipher methods it offers the AAD-prefixed forms of
 * core/cipher (AeadWithAadPrefix): Node returns each update() in a fresh buffer, so the packet's
 * length || ciphertext || tag is assembled here in one uninitialised buffer with one copy.
 */
function createAesGcm(key: Uint8Array): AeadCipher & AeadWithAadPrefix {
  const alg = aesName(key, 'gcm') as nc.CipherGCMTypes;
  const k = nc.createSecretKey(key);
  const seal = (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix: boolean): Uint8Array => {
    const c = nc.createCipheriv(alg, k, nonce, { authTagLength: 16 });
    c.setAAD(aad);
    const ct = c.update(plaintext);
    c.final();
    const at = prefix ? aad.length : 0;
    const out = Buffer.allocUnsafeSlow(at + ct.length + 16);
    if (prefix) out.set(aad);
    out.set(ct, at);
    out.set(c.getAuthTag(), at + ct.length);
    return view(out);
  };
  const open = (nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, prefix: boolean): Uint8Array | null => {
    if (nonce.length !== 12 || data.length < 16) return null;
    try {
      const d = nc.createDecipheriv(alg, k, nonce, { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(data.subarray(data.length - 16));
      const pt = d.update(data.subarray(0, data.length - 16));
      d.final();
      if (!prefix) return view(pt);
      const out = Buffer.allocUnsafeSlow(aad.length + pt.length);
      out.set(aad);
      out.set(pt, aad.length);
      return view(out);
    } catch {
      return null;
    }
  };
  return {
    seal: (nonce, aad, plaintext) => seal(nonce, aad, plaintext, false),
    open: (nonce, aad, data) => open(nonce, aad, data, false),
    sealWithAad: (nonce, aad, plaintext) => seal(nonce, aad, plaintext, true),
    openWithAad: (nonce, aad, data) => open(nonce, aad, data, true),
  };
}

const chachaIv = Buffer.alloc(16);

export const nodeCrypto: CryptoProvider = {
  name: 'node',

  createHash(alg) {
    const h = nc.createHash(hashName(alg));
    const hasher = {
      update(data: Uint8Array) {
        h.update(data);
        return hasher;
      },
      digest: () => view(h.digest()),
    };
    return hasher;
  },
  hash: (alg, data) => view(nc.createHash(hashName(alg)).update(data).digest()),
  hmac: (alg, key, data) => view(nc.createHmac(hashName(alg), key).update(data).digest()),
  createHmac(alg, key) {
    const name = hashName(alg);
    const k = key.length > 0 ? nc.createSecretKey(key) : new Uint8Array(0);
    return (parts) => {
      const h = nc.createHmac(name, k);
      for (const p of parts) h.update(p);
      return view(h.digest());
    };
  },

  createAesCtr(key, iv) {
    if (iv.length !== 16) throw new RangeError('AES-CTR IV must be 16 bytes');
    const c = nc.createCipheriv(aesName(key, 'ctr'), key, iv);
    return { update: (data) => view(c.update(data)) };
  },
  createAesGcm,

  chacha20(key, nonce8, counter, data) {
    if (nonce8.length !== 8) throw new RangeError('chacha20: nonce must be 8 bytes');
    if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('chacha20: bad counter');
    // OpenSSL's 16-byte IV is its 32-bit LE counter || 96-bit nonce, which lines up with DJB's
    // 64-bit LE counter || 64-bit nonce, and OpenSSL carries the counter into the next word.
    chachaIv.writeUInt32LE(counter % 4294967296, 0);
    chachaIv.writeUInt32LE(Math.floor(counter / 4294967296), 4);
    chachaIv.set(nonce8, 8);
    const out = nc.createCipheriv('chacha20', key, chachaIv).update(data);
    return view(out);
  },
  poly1305: (key, message) => poly1305(key, message),

  x25519PublicKey: (privateKey) => rawPublic(nc.createPublicKey(x25519Private(privateKey))),
  x25519SharedSecret(privateKey, peerPublicKey) {
    if (peerPublicKey.length !== 32) throw kexError('X25519 public key must be 32 bytes');
    let secret: Uint8Array;
    try {
      const publicKey = okpPublic('X25519', peerPublicKey);
      secret = view(nc.diffieHellman({ privateKey: x25519Private(privateKey), publicKey }));
    } catch {
      // OpenSSL fails the derivation when the result is all zero (RFC 7748 section 6.1).
      throw kexError('X25519 shared secret is all zero');
    }
    if (isAllZero(secret)) throw kexError('X25519 shared secret is all zero');
    return secret;
  },

  ecdhPublicKey: (curve, privateKey) => ecPublic(curve, privateKey),
  ecdhSharedSecret(curve, privateKey, peerPublicKey) {
    const e = ecdhFor(curve, privateKey);
    if (!isUncompressedPoint(curve, peerPublicKey)) throw kexError(`${curve} public key is not an uncompressed point`);
    try {
      return view(e.computeSecret(peerPublicKey));
    } catch {
      throw kexError(`${curve} public key is not a point on the curve`);
    }
  },

  modPow: modPowNode,

  ed25519PublicKey: (seed) => rawPublic(nc.createPublicKey(ed25519Private(seed))),
  ed25519Sign: (seed, message) => view(nc.sign(null, message, ed25519Private(seed))),
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      const key = ed25519PublicKeys.get(publicKey, () => okpPublic('Ed25519', publicKey));
      return nc.verify(null, message, key, signature);
    } catch {
      return false;
    }
  },

  ecdsaSign(curve, privateKey, message) {
    const len = ecFieldLength[curve];
    const sig = view(nc.sign(curveHash[curve], message, { key: ecdsaPrivate(curve, privateKey), dsaEncoding: 'ieee-p1363' }));
    return { r: bytesToBigint(sig.subarray(0, len)), s: bytesToBigint(sig.subarray(len)) };
  },
  ecdsaVerify(curve, publicKey, message, r, s) {
    curveInfo(curve);
    const len = ecFieldLength[curve];
    const n = ecCurveOrder[curve];
    if (!isUncompressedPoint(curve, publicKey)) return false;
    if (r <= 0n || s <= 0n || r >= n || s >= n) return false;
    try {
      const sig = Buffer.concat([bigintToBytes(r, len), bigintToBytes(s, len)]);
      return nc.verify(curveHash[curve], message, { key: ecdsaPublic(curve, publicKey), dsaEncoding: 'ieee-p1363' }, sig);
    } catch {
      return false;
    }
  },
  ecdsaPublicKey: (curve, privateKey) => ecPublic(curve, privateKey),

  rsaSign(key, hash, message) {
    return view(nc.sign(hashName(hash), message, { key: rsaPrivate(key), padding: nc.constants.RSA_PKCS1_PADDING }));
  },
  rsaVerify(key, hash, message, signature) {
    try {
      const k = byteLength(key.n);
      if (signature.length === 0 || signature.length > k) return false;
      // Leading zero bytes a peer stripped are put back, as OpenSSH does.
      let sig = signature;
      if (sig.length < k) {
        sig = new Uint8Array(k);
        sig.set(signature, k - signature.length);
      }
      return nc.verify(hashName(hash), message, { key: rsaPublic(key), padding: nc.constants.RSA_PKCS1_PADDING }, sig);
    } catch {
      return false;
    }
  },
};
