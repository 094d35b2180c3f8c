/**
 * The crypto seam. Everything the engine computes with secrets goes through a {@link CryptoProvider}:
 * hashes and HMAC (RFC 6668, RFC 4253 section 6.4), bulk ciphers (RFC 4344 AES-CTR, RFC 5647 /
 * OpenSSH PROTOCOL AES-GCM, PROTOCOL.chacha20poly1305), key agreement (RFC 7748 X25519, RFC 5656
 * ECDH, RFC 4253 / 8268 finite-field DH) and signatures (RFC 8032 Ed25519, RFC 5656 ECDSA,
 * RFC 8017 RSASSA-PKCS1-v1_5 as used by RFC 8332).
 *
 * Two implementations exist: the pure one in core/crypto/pure.ts (runs anywhere) and the
 * node:crypto one in io-node. Both must produce identical bytes for identical inputs (ECDSA
 * signatures excepted: OpenSSL draws a random nonce, so there only cross-verification holds).
 *
 * Randomness is NOT part of the provider: it comes from the engine's injectable
 * {@link RandomSource} so that a seeded run is reproducible whatever provider is used.
 */

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type EcCurve = 'p256' | 'p384' | 'p521';

/** Incremental hash. */
export interface Hasher {
  update(data: Uint8Array): Hasher;
  digest(): Uint8Array;
}

/** A keyed, stateful keystream cipher (AES-CTR): successive calls continue the stream. */
export interface StreamCipher {
  /** Returns `data` XOR the next `data.length` keystream bytes (a new array). */
  update(data: Uint8Array): Uint8Array;
}

/** AES-GCM with a fixed key; 16-byte tag appended. */
export interface AeadCipher {
  /** Returns ciphertext || tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns plaintext, or null when the tag does not verify. Never throws on bad input. */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null;
}

/** RSA private key as integers (RFC 8017 section 3.2). */
export interface RsaPrivateKey {
  readonly n: bigint;
  readonly e: bigint;
  readonly d: bigint;
  readonly p: bigint;
  readonly q: bigint;
  /** q^-1 mod p */
  readonly iqmp: bigint;
}

export interface RsaPublicKey {
  readonly n: bigint;
  readonly e: bigint;
}

export interface CryptoProvider {
  readonly name: string;

  createHash(alg: HashName): Hasher;
  hash(alg: HashName, data: Uint8Array): Uint8Array;
  hmac(alg: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** A reusable HMAC key: `mac(parts)` is HMAC(key, concat(parts)). Hot path for packet MACs. */
  createHmac(alg: HashName, key: Uint8Array): (parts: readonly Uint8Array[]) => Uint8Array;

  /** AES-CTR (128/192/256 from key length) with a 16-byte initial counter block. */
  createAesCtr(key: Uint8Array, iv: Uint8Array): StreamCipher;
  /** AES-GCM (128/256 from key length), 12-byte nonces, 16-byte tags. */
  createAesGcm(key: Uint8Array): AeadCipher;
  /**
   * The original (DJB) ChaCha20 as OpenSSH uses it: 32-byte key, 8-byte nonce, 64-bit block
   * counter starting at `counter`. Returns data XOR keystream (a new array).
   */
  chacha20(key: Uint8Array, nonce8: Uint8Array, counter: number, data: Uint8Array): Uint8Array;
  /** One-shot Poly1305 (RFC 8439 section 2.5) with a 32-byte one-time key. */
  poly1305(key: Uint8Array, message: Uint8Array): Uint8Array;

  /** X25519 public key from a 32-byte private scalar (RFC 7748). */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** X25519 shared secret; throws if the peer key is malformed or the result is all zero. */
  x25519SharedSecret(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array;

  /** Uncompressed SEC1 public point (0x04 || X || Y) for a private scalar (big-endian, field size). */
  ecdhPublicKey(curve: EcCurve, privateKey: Uint8Array): Uint8Array;
  /** X coordinate of privateKey * peerPoint; throws if the peer point is not on the curve. */
  ecdhSharedSecret(curve: EcCurve, privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array;

  /** base^exponent mod modulus, for finite-field Diffie-Hellman. */
  modPow(base: bigint, exponent: bigint, modulus: bigint): bigint;

  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;

  /**
   * ECDSA over the curve's SSH hash (p256: sha256, p384: sha384, p521: sha512, RFC 5656 6.2.1).
   * Returns r and s as big-endian unsigned bytes (no padding guarantees).
   */
  ecdsaSign(curve: EcCurve, privateKey: Uint8Array, message: Uint8Array): { r: bigint; s: bigint };
  ecdsaVerify(curve: EcCurve, publicKey: Uint8Array, message: Uint8Array, r: bigint, s: bigint): boolean;
  ecdsaPublicKey(curve: EcCurve, privateKey: Uint8Array): Uint8Array;

  /** RSASSA-PKCS1-v1_5 signature (RFC 8017 section 8.2), output length = modulus length. */
  rsaSign(key: RsaPrivateKey, hash: HashName, message: Uint8Array): Uint8Array;
  rsaVerify(key: RsaPublicKey, hash: HashName, message: Uint8Array, signature: Uint8Array): boolean;
}

/** Fills and returns a new array of n cryptographically random bytes. */
export type RandomSource = (n: number) => Uint8Array;
