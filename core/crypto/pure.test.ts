import { describe, it, expect } from 'vitest';
import { pureCrypto, modPowBigint, emsaPkcs1v15, normalizeScalar } from './pure.ts';
import { describeProviderVectors } from '../../fixtures/crypto/provider-suite.ts';
import { ecdsaVectors } from '../../fixtures/crypto/vectors.ts';
import { hex, toHex, utf8 } from '../../fixtures/crypto/util.ts';
import type { EcCurve } from './provider.ts';

describeProviderVectors(pureCrypto);

describe('pure: deterministic ECDSA reproduces RFC 6979 exactly', () => {
  for (const v of ecdsaVectors) {
    for (const sig of v.signatures) {
      it(`${v.source} "${sig.message}"`, () => {
        const { r, s } = pureCrypto.ecdsaSign(v.curve as EcCurve, hex(v.x), utf8(sig.message));
        expect(r.toString(16)).toBe(BigInt('0x' + sig.r).toString(16));
        expect(s.toString(16)).toBe(BigInt('0x' + sig.s).toString(16));
      });
    }
  }
});

describe('pure: helpers', () => {
  it('modPow rejects a non-positive modulus and negative exponents', () => {
    expect(() => modPowBigint(2n, 3n, 0n)).toThrow(RangeError);
    expect(() => modPowBigint(2n, -3n, 7n)).toThrow(RangeError);
    expect(modPowBigint(-2n, 3n, 7n)).toBe(6n);
  });

  it('EMSA-PKCS1-v1_5 has the RFC 8017 9.2 layout', () => {
    const em = emsaPkcs1v15('sha256', utf8('abc'), 64)!;
    expect(toHex(em.subarray(0, 2))).toBe('0001');
    expect(em.subarray(2, 64 - 51 - 1).every((b) => b === 0xff)).toBe(true);
    expect(em[64 - 51 - 1]).toBe(0);
    expect(toHex(em.subarray(64 - 32))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(emsaPkcs1v15('sha512', utf8('abc'), 64)).toBeNull();
  });

  it('normalizeScalar pads short scalars and strips leading zeros', () => {
    expect(toHex(normalizeScalar('p256', hex('01')))).toBe('00'.repeat(31) + '01');
    expect(toHex(normalizeScalar('p256', hex('00'.repeat(33) + '05')))).toBe('00'.repeat(31) + '05');
    expect(() => normalizeScalar('p256', hex('01'.repeat(33)))).toThrow(RangeError);
  });
});
