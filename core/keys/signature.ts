/**
 * Signature blobs: `string algorithm || string signature` (RFC 4253 section 6.6).
 *
 * - `ssh-ed25519`: the 64-byte RFC 8032 signature (RFC 8709 section 6).
 * - `ecdsa-sha2-<curve>`: the string holds `mpint r || mpint s`, the message hashed with the
 *   curve's hash (RFC 5656 sections 3.1.2 and 6.2.1).
 * - `rsa-sha2-512`, `rsa-sha2-256` (RFC 8332 section 3) and legacy `ssh-rsa` (SHA-1, RFC 4253
 *   section 6.6): RSASSA-PKCS1-v1_5, the signature as long as the modulus.
 *
 * Verification takes the algorithm that was negotiated (or that the client named in its auth
 * request) and refuses a blob naming any other, so a peer cannot downgrade rsa-sha2-512 to SHA-1
 * inside the signature. It never throws: everything that is not a valid signature is `false`.
 */
import type { CryptoProvider, HashName } from '../crypto/provider.ts';
import { SshUsageError } from '../errors.ts';
import { SshReader, bytesToBigint } from '../wire/reader.ts';
import { SshWriter, bigintToBytes } from '../wire/writer.ts';
import type { PrivateKey } from './private-key.ts';
import { ECDSA_CURVES, bitLength, isEcdsaKeyType, type KeyType, type PublicKey } from './public-key.ts';

export type SignatureAlgorithm =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'rsa-sha2-512'
  | 'rsa-sha2-256'
  | 'ssh-rsa';

/** The part of a {@link CryptoProvider} that signing and verification need. */
export type SignatureCrypto = Pick<
  CryptoProvider,
  'ed25519Sign' | 'ed25519Verify' | 'ecdsaSign' | 'ecdsaVerify' | 'rsaSign' | 'rsaVerify'
>;

const RSA_HASH: Readonly<Record<string, HashName>> = {
  'rsa-sha2-512': 'sha512',
  'rsa-sha2-256': 'sha256',
  'ssh-rsa': 'sha1',
};

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export function isSignatureAlgorithm(name: string): name is SignatureAlgorithm {
  return (SIGNATURE_ALGORITHMS as readonly string[]).includes(name);
}

/**
 * Signature algorithms a key can make, most preferred first (RFC 8332 section 3 for RSA). Typed
 * as plain strings so callers can test negotiated names against it without casts.
 */
export function signatureAlgorithmsForKey(type: KeyType): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

/**
 * The key type behind a signature (= host key) algorithm name. Throws {@link SshUsageError} for a
 * name we do not implement: callers only pass names from our own algorithm lists.
 */
export function keyTypeForSignatureAlgorithm(algorithm: string): KeyType {
  if (algorithm === 'rsa-sha2-512' || algorithm === 'rsa-sha2-256' || algorithm === 'ssh-rsa') return 'ssh-rsa';
  if (algorithm === 'ssh-ed25519' || isEcdsaKeyType(algorithm)) return algorithm;
  throw new SshUsageError(`unknown signature algorithm "${algorithm}"`);
}

/**
 * Verify `signatureBlob` over `data` with `key`, requiring the blob to name `expectedAlgorithm`
 * and `expectedAlgorithm` to belong to the key's type. Returns false for anything else, including
 * malformed blobs, trailing bytes and provider errors.
 */
export function verifySignature(
  crypto: SignatureCrypto,
  key: PublicKey,
  expectedAlgorithm: string,
  signatureBlob: Uint8Array,
  data: Uint8Array,
): boolean {
  try {
    if (!isSignatureAlgorithm(expectedAlgorithm) || keyTypeForSignatureAlgorithm(expectedAlgorithm) !== key.type) return false;
    const r = new SshReader(signatureBlob, 'signature blob');
    const algorithm = r.ascii(64);
    const signature = r.string();
    r.end();
    if (algorithm !== expectedAlgorithm) return false;

    switch (key.type) {
      case 'ssh-ed25519':
        return signature.length === 64 && crypto.ed25519Verify(key.key, data, signature) === true;
      case 'ssh-rsa': {
        const hash = RSA_HASH[algorithm];
        if (hash === undefined) return false;
        const modulusBytes = Math.ceil(bitLength(key.n) / 8);
        if (signature.length > modulusBytes || signature.length === 0) return false;
        // OpenSSH accepts signatures whose leading zero bytes were dropped by older signers and
        // restores them; RSASSA-PKCS1-v1_5 itself requires the full modulus length.
        const padded = new Uint8Array(modulusBytes);
        padded.set(signature, modulusBytes - signature.length);
        return crypto.rsaVerify({ n: key.n, e: key.e }, hash, data, padded) === true;
      }
      default: {
        const sr = new SshReader(signature, 'ecdsa signature');
        const rValue = sr.mpint(ECDSA_CURVES[key.curve].fieldBytes + 1);
        const sValue = sr.mpint(ECDSA_CURVES[key.curve].fieldBytes + 1);
        sr.end();
        const order = ECDSA_CURVES[key.curve].order;
        if (rValue <= 0n || rValue >= order || sValue <= 0n || sValue >= order) return false;
        return crypto.ecdsaVerify(key.curve, key.point, data, rValue, sValue) === true;
      }
    }
  } catch {
    return false;
  }
}

/**
 * Sign `data` with `key` as `algorithm` and return the signature blob. Throws
 * {@link SshUsageError} when the algorithm does not fit the key.
 */
export function sign(crypto: SignatureCrypto, key: PrivateKey, algorithm: string, data: Uint8Array): Uint8Array {
  if (!isSignatureAlgorithm(algorithm) || keyTypeForSignatureAlgorithm(algorithm) !== key.type) {
    throw new SshUsageError(`cannot sign with a ${key.type} key using algorithm "${algorithm}"`);
  }
  let signature: Uint8Array;
  switch (key.type) {
    case 'ssh-ed25519':
      signature = crypto.ed25519Sign(key.seed, data);
      break;
    case 'ssh-rsa': {
      const raw = crypto.rsaSign(key.rsa, RSA_HASH[algorithm]!, data);
      // Pad to the modulus length as OpenSSH does: some verifiers reject shorter signatures.
      const modulusBytes = Math.ceil(bitLength(key.rsa.n) / 8);
      signature = raw.length >= modulusBytes ? raw : bigintToBytes(bytesToBigint(raw), modulusBytes);
      break;
    }
    default: {
      const { r, s } = crypto.ecdsaSign(key.curve, key.d, data);
      signature = new SshWriter().mpint(r).mpint(s).finish();
    }
  }
  return new SshWriter().string(algorithm).string(signature).finish().slice();
}

