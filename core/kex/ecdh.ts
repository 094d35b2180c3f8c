/**
 * ecdh-sha2-nistp256, ecdh-sha2-nistp384 and ecdh-sha2-nistp521 (RFC 5656 section 4, names and
 * hash per curve from sections 6.3 and 6.2.1, points encoded per SEC1 section 2.3.3).
 *
 * Q_C and Q_S are uncompressed SEC1 points (0x04 || X || Y) sent as strings; K is the x
 * coordinate of the shared point, hashed as an mpint. RFC 5656 section 4 requires each side to
 * validate the peer's public key (SEC1 section 3.2.2); the curves have cofactor 1, so "on the
 * curve, coordinates reduced, not the point at infinity" is the whole check. We refuse
 * compressed points and the infinity encoding by length, like OpenSSH, and check the curve
 * equation ourselves so the guarantee does not depend on which crypto provider is plugged in.
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import type { EcCurve, HashName } from '../crypto/provider.ts';
import { kexError, SshUsageError } from '../errors.ts';
import { bytesToBigint } from '../wire/reader.ts';
import { clientState, leftPad, wipe } from './common.ts';
import type { KexContext, KexMethod, KexServerResult } from './types.ts';

interface CurveParams {
  readonly curve: EcCurve;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly n: bigint;
  /** Bytes of a field element, and of a private scalar as the provider takes it. */
  readonly fieldBytes: number;
  /** Mask for the top byte of a candidate scalar, so rejection sampling rarely rejects (P-521's n has 521 bits). */
  readonly topByteMask: number;
}

function params(curve: EcCurve, c: { p: bigint; a: bigint; b: bigint; n: bigint }): CurveParams {
  const fieldBytes = Math.ceil(c.p.toString(2).length / 8);
  const nBits = c.n.toString(2).length;
  const spare = fieldBytes * 8 - nBits;
  const mod = (v: bigint): bigint => ((v % c.p) + c.p) % c.p;
  return { curve, p: c.p, a: mod(c.a), b: mod(c.b), n: c.n, fieldBytes, topByteMask: 0xff >> spare };
}

const curves: Record<EcCurve, CurveParams> = {
  p256: params('p256', p256.Point.CURVE()),
  p384: params('p384', p384.Point.CURVE()),
  p521: params('p521', p521.Point.CURVE()),
};

/** Length of an uncompressed point on `curve`. */
export function ecPointBytes(curve: EcCurve): number {
  return 1 + 2 * curves[curve].fieldBytes;
}

/**
 * Throw KEY_EXCHANGE_FAILED unless `point` is an uncompressed encoding of a finite point on the
 * curve with both coordinates reduced mod p (SEC1 section 3.2.2; for cofactor-1 curves this is
 * full validation).
 */
export function validateEcPoint(curve: EcCurve, point: Uint8Array, who: string): void {
  const c = curves[curve];
  if (point.length !== 1 + 2 * c.fieldBytes) {
    throw kexError(`${who} ${curve} point is ${point.length} bytes, expected ${1 + 2 * c.fieldBytes} (uncompressed)`);
  }
  if (point[0] !== 0x04) throw kexError(`${who} ${curve} point is not in uncompressed form`);
  const x = bytesToBigint(point.subarray(1, 1 + c.fieldBytes));
  const y = bytesToBigint(point.subarray(1 + c.fieldBytes));
  if (x >= c.p || y >= c.p) throw kexError(`${who} ${curve} point has a coordinate outside the field`);
  if ((y * y) % c.p !== (x * x * x + c.a * x + c.b) % c.p) throw kexError(`${who} ${curve} point is not on the curve`);
}

/**
 * A private scalar uniform in [1, n-1] by rejection sampling (as in FIPS 186-5 appendix A.2.2),
 * drawn from ctx.random so seeded runs reproduce. Returned as fieldBytes big-endian bytes.
 */
function randomScalar(ctx: KexContext, c: CurveParams): Uint8Array {
  // Each try succeeds with probability > 1/2, so 64 failures in a row mean the source is broken.
  for (let attempt = 0; attempt < 64; attempt++) {
    const candidate = ctx.random(c.fieldBytes);
    candidate[0] = candidate[0]! & c.topByteMask;
    const d = bytesToBigint(candidate);
    if (d >= 1n && d < c.n) return candidate;
    wipe(candidate);
  }
  throw new SshUsageError('random source keeps producing out-of-range ECDH scalars');
}

function agree(ctx: KexContext, c: CurveParams, privateKey: Uint8Array, peerPoint: Uint8Array, who: string): Uint8Array {
  validateEcPoint(c.curve, peerPoint, who);
  let shared: Uint8Array;
  try {
    shared = ctx.crypto.ecdhSharedSecret(c.curve, privateKey, peerPoint);
  } catch (cause) {
    throw kexError(`${who} ${c.curve} point rejected: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  const x = leftPad(shared, c.fieldBytes);
  if (x === null) throw kexError(`${c.curve} shared secret longer than the field`);
  return x;
}

function ecdhMethod(name: string, curve: EcCurve, hash: HashName): KexMethod {
  const c = curves[curve];
  return {
    name,
    hash,
    valueEncoding: 'string',
    secretEncoding: 'mpint',
    clientStart(ctx) {
      const privateKey = randomScalar(ctx, c);
      const publicKey = ctx.crypto.ecdhPublicKey(curve, privateKey);
      return clientState(publicKey, (serverValue) => agree(ctx, c, privateKey, serverValue, 'server'), [privateKey]);
    },
    serverRespond(ctx, clientValue): KexServerResult {
      // Validate before spending randomness so a bad INIT costs us nothing.
      validateEcPoint(curve, clientValue, 'client');
      const privateKey = randomScalar(ctx, c);
      try {
        const serverValue = ctx.crypto.ecdhPublicKey(curve, privateKey);
        return { serverValue, secret: agree(ctx, c, privateKey, clientValue, 'client') };
      } finally {
        wipe(privateKey);
      }
    },
  };
}

export const ecdhSha2Nistp256: KexMethod = ecdhMethod('ecdh-sha2-nistp256', 'p256', 'sha256');
export const ecdhSha2Nistp384: KexMethod = ecdhMethod('ecdh-sha2-nistp384', 'p384', 'sha384');
export const ecdhSha2Nistp521: KexMethod = ecdhMethod('ecdh-sha2-nistp521', 'p521', 'sha512');
