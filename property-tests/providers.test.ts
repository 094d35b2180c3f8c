/**
 * The two crypto providers are interchangeable: for random inputs the pure provider and the
 * node:crypto one produce identical bytes (sealed packets, hashes, MACs, keystreams, Ed25519 and
 * RSA signatures, X25519/ECDH secrets, modPow) and accept each other's ECDSA signatures.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import * as nc from 'node:crypto';
import { pureCrypto, ecCurveOrder, ecFieldLength } from '../core/crypto/pure.ts';
import { nodeCrypto } from '../io-node/runtime/crypto-node.ts';
import type { EcCurve, HashName, RsaPrivateKey } from '../core/crypto/provider.ts';
import { createOpener, createSealer } from '../core/cipher/index.ts';
import { bigintToBytes } from '../core/wire/writer.ts';
import { combinations, keysFor, makePacket } from '../fixtures/crypto/packet-suite.ts';
import { rsaKat } from '../fixtures/crypto/rsa-pkcs1.ts';
import { toHex } from '../fixtures/crypto/util.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const message = fc.uint8Array({ maxLength: 600 });
const hashName = fc.constantFrom<HashName>('sha1', 'sha256', 'sha384', 'sha512');
const curve = fc.constantFrom<EcCurve>('p256', 'p384', 'p521');

/** A valid private scalar for the curve, as field-sized big-endian bytes. */
const scalar = (c: EcCurve) =>
  fc.bigInt({ min: 1n, max: ecCurveOrder[c] - 1n }).map((d) => bigintToBytes(d, ecFieldLength[c]));

function rsaKeyFromNode(bits: number): RsaPrivateKey {
  const { privateKey } = nc.generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 });
  const jwk = privateKey.export({ format: 'jwk' });
  const big = (s: string | undefined) => BigInt('0x' + Buffer.from(s!, 'base64url').toString('hex'));
  return { n: big(jwk.n), e: big(jwk.e), d: big(jwk.d), p: big(jwk.p), q: big(jwk.q), iqmp: big(jwk.qi) };
}

describe('pure and node providers agree', () => {
  it('sealed packets, for every cipher x MAC, and each opens the other', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: combinations.length - 1 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 3 }),
        (which, seed, seq, payloads, extra) => {
          const [cipher, mac] = combinations[which]!;
          const keys = keysFor(cipher, mac, seed);
          const sealA = createSealer(pureCrypto, cipher, mac, keys);
          const sealB = createSealer(nodeCrypto, cipher, mac, keys);
          const openA = createOpener(pureCrypto, cipher, mac, keys);
          const openB = createOpener(nodeCrypto, cipher, mac, keys);
          payloads.forEach((payload, i) => {
            const s = (seq + i) >>> 0;
            const pk = makePacket(payload, sealA.blockSize, sealA.lengthExcludedFromPadding, extra);
            const wa = sealA.seal(s, pk);
            const wb = sealB.seal(s, pk);
            expect(toHex(wa)).toBe(toHex(wb));
            expect(openB.decryptLength(s, wa.subarray(0, openB.lengthBytes))).toBe(pk.length - 4);
            expect(toHex(openB.open(s, wa)!)).toBe(toHex(pk));
            expect(openA.decryptLength(s, wb.subarray(0, openA.lengthBytes))).toBe(pk.length - 4);
            expect(toHex(openA.open(s, wb)!)).toBe(toHex(pk));
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('hashes, HMACs, incremental hashing', () => {
    fc.assert(
      fc.property(hashName, fc.uint8Array({ maxLength: 200 }), fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), (alg, key, parts) => {
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        expect(toHex(nodeCrypto.hash(alg, all))).toBe(toHex(pureCrypto.hash(alg, all)));
        const ha = pureCrypto.createHash(alg);
        const hb = nodeCrypto.createHash(alg);
        for (const p of parts) {
          ha.update(p);
          hb.update(p);
        }
        expect(toHex(hb.digest())).toBe(toHex(ha.digest()));
        expect(toHex(nodeCrypto.hmac(alg, key, all))).toBe(toHex(pureCrypto.hmac(alg, key, all)));
        expect(toHex(nodeCrypto.createHmac(alg, key)(parts))).toBe(toHex(pureCrypto.createHmac(alg, key)(parts)));
      }),
      { numRuns: 100 },
    );
  });

  it('AES-CTR streams fed in random pieces, AES-GCM seal/open', () => {
    fc.assert(
      fc.property(fc.constantFrom(16, 24, 32), bytes(32), bytes(16), fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 6 }), bytes(12), message, message,
        (keyLength, keyBytes, iv, pieces, nonce, aad, plain) => {
          const key = keyBytes.subarray(0, keyLength);
          const a = pureCrypto.createAesCtr(key, iv);
          const b = nodeCrypto.createAesCtr(key, iv);
          for (const p of pieces) expect(toHex(b.update(p))).toBe(toHex(a.update(p)));
          if (keyLength === 24) return;
          const sa = pureCrypto.createAesGcm(key).seal(nonce, aad, plain);
          expect(toHex(nodeCrypto.createAesGcm(key).seal(nonce, aad, plain))).toBe(toHex(sa));
          expect(toHex(nodeCrypto.createAesGcm(key).open(nonce, aad, sa)!)).toBe(toHex(plain));
        }),
      { numRuns: 100 },
    );
  });

  it('ChaCha20 (any counter) and Poly1305', () => {
    fc.assert(
      fc.property(bytes(32), bytes(8), fc.oneof(fc.nat({ max: 10 }), fc.constant(0xffffffff), fc.nat()), fc.uint8Array({ maxLength: 700 }), (key, nonce, counter, data) => {
        expect(toHex(nodeCrypto.chacha20(key, nonce, counter, data))).toBe(toHex(pureCrypto.chacha20(key, nonce, counter, data)));
        expect(toHex(nodeCrypto.poly1305(key, data))).toBe(toHex(pureCrypto.poly1305(key, data)));
      }),
      { numRuns: 150 },
    );
  });

  it('Ed25519 public keys and signatures are identical; each verifies the other', () => {
    fc.assert(
      fc.property(bytes(32), message, (seed, msg) => {
        const pub = pureCrypto.ed25519PublicKey(seed);
        expect(toHex(nodeCrypto.ed25519PublicKey(seed))).toBe(toHex(pub));
        const sig = pureCrypto.ed25519Sign(seed, msg);
        expect(toHex(nodeCrypto.ed25519Sign(seed, msg))).toBe(toHex(sig));
        expect(nodeCrypto.ed25519Verify(pub, msg, sig)).toBe(true);
        const bad = sig.slice();
        bad[0] = bad[0]! ^ 1;
        expect(nodeCrypto.ed25519Verify(pub, msg, bad)).toBe(false);
        expect(pureCrypto.ed25519Verify(pub, msg, bad)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('X25519 public keys and shared secrets are identical', () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), (a, b) => {
        const pa = pureCrypto.x25519PublicKey(a);
        const pb = nodeCrypto.x25519PublicKey(b);
        expect(toHex(nodeCrypto.x25519PublicKey(a))).toBe(toHex(pa));
        expect(toHex(pureCrypto.x25519PublicKey(b))).toBe(toHex(pb));
        const s = pureCrypto.x25519SharedSecret(a, pb);
        expect(toHex(nodeCrypto.x25519SharedSecret(a, pb))).toBe(toHex(s));
        expect(toHex(nodeCrypto.x25519SharedSecret(b, pa))).toBe(toHex(s));
      }),
      { numRuns: 60 },
    );
  });

  it('X25519 with arbitrary peer bytes: same secret or both refuse', () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), (a, peer) => {
        let pure: string;
        let node: string;
        try {
          pure = toHex(pureCrypto.x25519SharedSecret(a, peer));
        } catch (e) {
          pure = `error ${(e as { code?: string }).code}`;
        }
        try {
          node = toHex(nodeCrypto.x25519SharedSecret(a, peer));
        } catch (e) {
          node = `error ${(e as { code?: string }).code}`;
        }
        expect(node).toBe(pure);
      }),
      { numRuns: 60 },
    );
  });

  it('ECDH public keys and shared secrets are identical on every curve', () => {
    fc.assert(
      fc.property(curve.chain((c) => fc.tuple(fc.constant(c), scalar(c), scalar(c))), ([c, a, b]) => {
        const pa = pureCrypto.ecdhPublicKey(c, a);
        expect(toHex(nodeCrypto.ecdhPublicKey(c, a))).toBe(toHex(pa));
        const pb = nodeCrypto.ecdhPublicKey(c, b);
        const s = pureCrypto.ecdhSharedSecret(c, a, pb);
        expect(toHex(nodeCrypto.ecdhSharedSecret(c, a, pb))).toBe(toHex(s));
        expect(toHex(nodeCrypto.ecdhSharedSecret(c, b, pa))).toBe(toHex(s));
      }),
      { numRuns: 30 },
    );
  });

  it('ECDSA signatures made by either provider verify under the other', () => {
    fc.assert(
      fc.property(curve.chain((c) => fc.tuple(fc.constant(c), scalar(c))), message, ([c, d], msg) => {
        const pub = pureCrypto.ecdsaPublicKey(c, d);
        expect(toHex(nodeCrypto.ecdsaPublicKey(c, d))).toBe(toHex(pub));
        const s1 = pureCrypto.ecdsaSign(c, d, msg);
        const s2 = nodeCrypto.ecdsaSign(c, d, msg);
        expect(nodeCrypto.ecdsaVerify(c, pub, msg, s1.r, s1.s)).toBe(true);
        expect(pureCrypto.ecdsaVerify(c, pub, msg, s2.r, s2.s)).toBe(true);
        // OpenSSL leaves high-S signatures as they are; both must accept the other half too.
        const n = ecCurveOrder[c];
        expect(pureCrypto.ecdsaVerify(c, pub, msg, s2.r, n - s2.s)).toBe(true);
        expect(nodeCrypto.ecdsaVerify(c, pub, msg, s1.r, n - s1.s)).toBe(true);
        expect(nodeCrypto.ecdsaVerify(c, pub, msg, s1.r, s1.s + 1n)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('RSA PKCS#1 v1.5 signatures are identical (they are deterministic)', () => {
    const keys = [
      { n: rsaKat.n, e: rsaKat.e, d: rsaKat.d, p: rsaKat.p, q: rsaKat.q, iqmp: rsaKat.iqmp },
      rsaKeyFromNode(1024),
      rsaKeyFromNode(3072),
    ];
    fc.assert(
      fc.property(fc.nat({ max: keys.length - 1 }), hashName, message, (i, hash, msg) => {
        const key = keys[i]!;
        const sig = pureCrypto.rsaSign(key, hash, msg);
        expect(toHex(nodeCrypto.rsaSign(key, hash, msg))).toBe(toHex(sig));
        expect(nodeCrypto.rsaVerify(key, hash, msg, sig)).toBe(true);
        expect(pureCrypto.rsaVerify(key, hash, msg, sig)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('modPow agrees on MODP primes (OpenSSL path) and arbitrary moduli (BigInt path)', () => {
    const p14 = BigInt('0x' + nc.getDiffieHellman('modp14').getPrime('hex'));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: p14 + 10n }), fc.bigInt({ min: 0n, max: 1n << 600n }), (base, exp) => {
        expect(nodeCrypto.modPow(base, exp, p14)).toBe(pureCrypto.modPow(base, exp, p14));
      }),
      { numRuns: 40 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 300n }), fc.bigInt({ min: 0n, max: 1n << 300n }), fc.bigInt({ min: 1n, max: 1n << 300n }), (base, exp, mod) => {
        expect(nodeCrypto.modPow(base, exp, mod)).toBe(pureCrypto.modPow(base, exp, mod));
      }),
      { numRuns: 100 },
    );
  });
});
