/**
 * A minimal signature provider on @noble/curves and micro-rsa-dsa-dh (RFC 8032, FIPS 186 ECDSA,
 * RFC 8017 RSASSA-PKCS1-v1_5), used only by the keys tests as an independent implementation to
 * check the real providers against.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { PKCS1_SHA1, PKCS1_SHA256, PKCS1_SHA384, PKCS1_SHA512 } from 'micro-rsa-dsa-dh/rsa.js';
import type { EcCurve, HashName } from '../../crypto/provider.ts';
import type { KeyDerivationCrypto } from '../private-key.ts';
import type { SignatureCrypto } from '../signature.ts';

const CURVES = { p256, p384, p521 } as const;
const PKCS1 = { sha1: PKCS1_SHA1, sha256: PKCS1_SHA256, sha384: PKCS1_SHA384, sha512: PKCS1_SHA512 } as const;

function fromCompact(curve: EcCurve, sig: Uint8Array): { r: bigint; s: bigint } {
  const parsed = CURVES[curve].Signature.fromBytes(sig, 'compact');
  return { r: parsed.r, s: parsed.s };
}

export const nobleTestCrypto: SignatureCrypto & KeyDerivationCrypto & { readonly name: string } = {
  name: 'noble-test',
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, message) => ed25519.sign(message, seed),
  ed25519Verify: (publicKey, message, signature) => ed25519.verify(signature, message, publicKey),
  ecdsaPublicKey: (curve, d) => CURVES[curve].getPublicKey(d, false),
  ecdsaSign: (curve, d, message) => fromCompact(curve, CURVES[curve].sign(message, d, { lowS: false })),
  // OpenSSH produces and accepts high-S signatures, so malleability checks must stay off.
  ecdsaVerify: (curve, point, message, r, s) =>
    CURVES[curve].verify(new CURVES[curve].Signature(r, s).toBytes('compact'), message, point, { lowS: false }),
  rsaSign: (key, hash: HashName, message) => PKCS1[hash].sign({ n: key.n, d: key.d }, message),
  rsaVerify: (key, hash: HashName, message, signature) => PKCS1[hash].verify({ n: key.n, e: key.e }, message, signature),
};
