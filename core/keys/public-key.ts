/**
 * Public key blobs: the `string` that carries a key in KEXDH_REPLY, USERAUTH_REQUEST, `.pub` lines
 * and openssh-key-v1 files.
 *
 * - `ssh-rsa`: `string "ssh-rsa" || mpint e || mpint n` (RFC 4253 section 6.6).
 * - `ecdsa-sha2-<curve>`: `string type || string curve-identifier || string Q` where Q is an
 *   uncompressed SEC1 point (RFC 5656 section 3.1; identifiers from section 10.1).
 * - `ssh-ed25519`: `string "ssh-ed25519" || string key` with a 32-byte key (RFC 8709 section 4).
 *
 * Blobs come from the peer, so every defect raises {@link SshProtocolError} with code
 * HOST_KEY_INVALID (disconnect reason KEY_EXCHANGE_FAILED); callers reading local files convert
 * that into a KeyFormatError. The exact bytes received are kept in `blob` because signatures and
 * the exchange hash cover them, not a re-encoding.
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import type { EcCurve } from '../crypto/provider.ts';
import { DisconnectReason, SshProtocolError } from '../errors.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';

export type { EcCurve } from '../crypto/provider.ts';

export type EcdsaKeyType = 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521';
export type KeyType = 'ssh-ed25519' | EcdsaKeyType | 'ssh-rsa';

export type Ed25519PublicKey = {
  readonly type: 'ssh-ed25519';
  readonly key: Uint8Array;
  readonly blob: Uint8Array;
};
export type EcdsaPublicKey = {
  readonly type: EcdsaKeyType;
  readonly curve: EcCurve;
  /** Uncompressed SEC1 point, 0x04 || X || Y. */
  readonly point: Uint8Array;
  readonly blob: Uint8Array;
};
export type RsaSshPublicKey = {
  readonly type: 'ssh-rsa';
  readonly n: bigint;
  readonly e: bigint;
  readonly blob: Uint8Array;
};
export type PublicKey = Ed25519PublicKey | EcdsaPublicKey | RsaSshPublicKey;

/** The fields of a public key without its blob, as accepted by {@link encodePublicKeyBlob}. */
export type PublicKeyFields =
  | Omit<Ed25519PublicKey, 'blob'>
  | Omit<EcdsaPublicKey, 'blob'>
  | Omit<RsaSshPublicKey, 'blob'>;

/**
 * OpenSSH refuses RSA moduli below 1024 bits (SSH_RSA_MINIMUM_MODULUS_SIZE); so do we by default.
 * Parsers take an override so a caller with a stricter policy can raise it.
 */
export const RSA_MIN_MODULUS_BITS = 1024;
/** OpenSSH's bignum limit (SSHBUF_MAX_BIGNUM, 2048 bytes): larger moduli are refused as abuse. */
export const RSA_MAX_MODULUS_BITS = 16384;

export const KEY_TYPES: readonly KeyType[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
];

export function isKeyType(name: string): name is KeyType {
  return (KEY_TYPES as readonly string[]).includes(name);
}

type CurveInfo = {
  readonly type: EcdsaKeyType;
  /** The RFC 5656 section 10.1 curve identifier carried inside the blob. */
  readonly identifier: string;
  readonly fieldBytes: number;
  readonly bits: number;
  readonly order: bigint;
  readonly validatePoint: (point: Uint8Array) => void;
};

function curveInfo(
  type: EcdsaKeyType,
  identifier: string,
  bits: number,
  noble: typeof p256,
): CurveInfo {
  return {
    type,
    identifier,
    bits,
    fieldBytes: noble.Point.Fp.BYTES,
    order: noble.Point.Fn.ORDER,
    validatePoint: (point) => noble.Point.fromBytes(point).assertValidity(),
  };
}

export const ECDSA_CURVES: Readonly<Record<EcCurve, CurveInfo>> = {
  p256: curveInfo('ecdsa-sha2-nistp256', 'nistp256', 256, p256),
  p384: curveInfo('ecdsa-sha2-nistp384', 'nistp384', 384, p384),
  p521: curveInfo('ecdsa-sha2-nistp521', 'nistp521', 521, p521),
};

const CURVE_BY_TYPE: Readonly<Record<EcdsaKeyType, EcCurve>> = {
  'ecdsa-sha2-nistp256': 'p256',
  'ecdsa-sha2-nistp384': 'p384',
  'ecdsa-sha2-nistp521': 'p521',
};

export function curveForKeyType(type: EcdsaKeyType): EcCurve {
  return CURVE_BY_TYPE[type];
}

export function isEcdsaKeyType(type: string): type is EcdsaKeyType {
  return Object.hasOwn(CURVE_BY_TYPE, type);
}

function invalid(message: string): SshProtocolError {
  return new SshProtocolError('HOST_KEY_INVALID', DisconnectReason.KEY_EXCHANGE_FAILED, message);
}

export type ParsePublicKeyOptions = {
  /** Smallest RSA modulus accepted, in bits. Default {@link RSA_MIN_MODULUS_BITS}. */
  readonly minRsaBits?: number;
};

/**
 * Parse a public key blob. Throws {@link SshProtocolError} (HOST_KEY_INVALID) for unknown types,
 * malformed fields, trailing bytes, a curve identifier that contradicts the type, points off the
 * curve and RSA keys outside the size limits.
 */
export function parsePublicKeyBlob(blob: Uint8Array, options: ParsePublicKeyOptions = {}): PublicKey {
  const r = new SshReader(blob, 'public key blob');
  let type: string;
  try {
    type = r.ascii(64);
  } catch (err) {
    throw invalid(`malformed public key blob: ${(err as Error).message}`);
  }
  try {
    if (type === 'ssh-ed25519') {
      const key = r.string();
      r.end();
      if (key.length !== 32) throw invalid(`ssh-ed25519 key is ${key.length} bytes, expected 32`);
      return { type, key, blob };
    }
    if (isEcdsaKeyType(type)) {
      const curve = CURVE_BY_TYPE[type];
      const info = ECDSA_CURVES[curve];
      const identifier = r.ascii(64);
      const point = r.string();
      r.end();
      if (identifier !== info.identifier) {
        throw invalid(`${type} key names curve "${identifier}", expected "${info.identifier}"`);
      }
      if (point.length !== 1 + 2 * info.fieldBytes || point[0] !== 0x04) {
        throw invalid(`${type} key point is not an uncompressed ${info.identifier} point`);
      }
      try {
        info.validatePoint(point);
      } catch {
        throw invalid(`${type} key point is not on curve ${info.identifier}`);
      }
      return { type, curve, point, blob };
    }
    if (type === 'ssh-rsa') {
      const e = r.mpint(33);
      const n = r.mpint(RSA_MAX_MODULUS_BITS / 8 + 1);
      r.end();
      checkRsaPublic(n, e, options.minRsaBits ?? RSA_MIN_MODULUS_BITS, invalid);
      return { type, n, e, blob };
    }
  } catch (err) {
    if (err instanceof SshProtocolError && err.code === 'HOST_KEY_INVALID') throw err;
    throw invalid(`malformed ${type} public key blob: ${(err as Error).message}`);
  }
  throw invalid(`unsupported public key type "${type}"`);
}

/** Shared by the blob and private key parsers so both enforce one policy. */
export function checkRsaPublic(n: bigint, e: bigint, minBits: number, fail: (message: string) => Error): void {
  const bits = bitLength(n);
  if (bits < minBits) throw fail(`ssh-rsa modulus is ${bits} bits, the minimum is ${minBits}`);
  if (bits > RSA_MAX_MODULUS_BITS) throw fail(`ssh-rsa modulus is ${bits} bits, the maximum is ${RSA_MAX_MODULUS_BITS}`);
  if ((n & 1n) === 0n) throw fail('ssh-rsa modulus is even');
  if (e < 3n || (e & 1n) === 0n) throw fail('ssh-rsa public exponent must be odd and at least 3');
}

export function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Encode a key's fields as a blob (the inverse of {@link parsePublicKeyBlob}). */
export function encodePublicKeyBlob(key: PublicKeyFields): Uint8Array {
  const w = new SshWriter();
  w.string(key.type);
  switch (key.type) {
    case 'ssh-ed25519':
      w.string(key.key);
      break;
    case 'ssh-rsa':
      w.mpint(key.e).mpint(key.n);
      break;
    default:
      w.string(ECDSA_CURVES[key.curve].identifier).string(key.point);
  }
  return w.finish().slice();
}

/** Build a validated {@link PublicKey} from raw parts (round-trips through the parser). */
export function ed25519PublicKey(key: Uint8Array): Ed25519PublicKey {
  return parsePublicKeyBlob(encodePublicKeyBlob({ type: 'ssh-ed25519', key })) as Ed25519PublicKey;
}

export function ecdsaPublicKey(curve: EcCurve, point: Uint8Array): EcdsaPublicKey {
  const type = ECDSA_CURVES[curve].type;
  return parsePublicKeyBlob(encodePublicKeyBlob({ type, curve, point })) as EcdsaPublicKey;
}

export function rsaPublicKey(n: bigint, e: bigint, options: ParsePublicKeyOptions = {}): RsaSshPublicKey {
  return parsePublicKeyBlob(encodePublicKeyBlob({ type: 'ssh-rsa', n, e }), options) as RsaSshPublicKey;
}

/** Keys are equal when their blobs are: the blob is the canonical identity SSH compares. */
export function publicKeysEqual(a: PublicKey, b: PublicKey): boolean {
  return bytesEqual(a.blob, b.blob);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
