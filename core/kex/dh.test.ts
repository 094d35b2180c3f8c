import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../io-node/runtime/crypto-node.ts';
import type { HashName } from '../crypto/provider.ts';
import { SshUsageError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import { bigintToBytes } from '../wire/writer.ts';
import {
  bitLength,
  chooseGexGroup,
  dhExponentBits,
  dhGroup14Sha256,
  dhGroup16Sha512,
  dhGroup18Sha512,
  dhMethodForGroup,
  gexGroups,
  modpGroup14,
  modpGroup15,
  modpGroup16,
  modpGroup17,
  modpGroup18,
  validateGexGroup,
} from './dh.ts';
import { expectKexFailure } from './tests/expect-kex.ts';
import { context, fixtureUrl, hex, coreProviders, recordingRandom, scriptedRandom, thrown } from './tests/helpers.ts';
import type { DhGroup, KexMethod } from './types.ts';

const providers = [...coreProviders, nodeCrypto];

/**
 * The RFC 3526 groups, with what the RFC says of each: its section, the offset in its defining
 * formula p = 2^N - 2^(N-64) - 1 + 2^64 * ([2^(N-130) pi] + offset), and the SHA-256 of the
 * prime's hex digits as printed there (upper case, blanks and line breaks removed), computed from
 * the RFC text kept in fixtures/kex/rfc3526-modp.txt.
 */
const rfc3526 = [
  { group: modpGroup14, id: 14, section: 3, bits: 2048, offset: 124476n, sha256: 'dcd8538e629d7b8bc0dabdcda6744e0542bfb801d50305b2f6acf823b3d4e7ba' },
  { group: modpGroup15, id: 15, section: 4, bits: 3072, offset: 1690314n, sha256: '2b2c15e1523695d748a2f56b3b81d59d23467b300f1879585be61f0addacdc45' },
  { group: modpGroup16, id: 16, section: 5, bits: 4096, offset: 240904n, sha256: '2349a6f8251156cbfade78ada6bd1e0c961a56847def4d288b6fdbd740016bff' },
  { group: modpGroup17, id: 17, section: 6, bits: 6144, offset: 929484n, sha256: 'eeff9f22efbb6af437e9bb4a5466ddc607a9d0c954e14a4a90461688896b9e2b' },
  { group: modpGroup18, id: 18, section: 7, bits: 8192, offset: 4743158n, sha256: 'd0c08f76798cac51345c195a01a2bea21bc577cfa9d857bbc6627ee41cb0b2b6' },
];

/** The hex digits of each "N-bit MODP Group" section of the RFC text, keyed by N. */
function primesFromRfcText(text: string): Map<number, { section: number; hex: string }> {
  const out = new Map<number, { section: number; hex: string }>();
  let current: { section: number; hex: string } | null = null;
  let inHex = false;
  for (const line of text.split('\n')) {
    const heading = /^(\d)\.  (\d+)-bit MODP Group/.exec(line);
    if (heading) {
      current = { section: Number(heading[1]), hex: '' };
      out.set(Number(heading[2]), current);
      inHex = false;
    } else if (current && /Its hexadecimal value is:/.test(line)) {
      inHex = true;
    } else if (current && /The generator is: 2\./.test(line)) {
      current = null;
    } else if (current && inHex && /^\s+[0-9A-F]{8}( [0-9A-F]{8})*\s*$/.test(line)) {
      current.hex += line.replace(/\s+/g, '');
    }
  }
  return out;
}

/** floor(pi * 2^bits), by Machin's formula in fixed point with guard bits. */
function piTimesPowerOfTwo(bits: number): bigint {
  const guard = 64n;
  const one = 1n << (BigInt(bits) + guard);
  const arctanInverse = (x: bigint): bigint => {
    let sum = 0n;
    let term = one / x;
    const x2 = x * x;
    for (let k = 0n; term !== 0n; k++) {
      sum += (k % 2n === 0n ? term : -term) / (2n * k + 1n);
      term /= x2;
    }
    return sum;
  };
  return (16n * arctanInverse(5n) - 4n * arctanInverse(239n)) >> guard;
}

const rfcText = readFileSync(fixtureUrl('rfc3526-modp.txt'), 'latin1');
const fromRfc = primesFromRfcText(rfcText);

describe('RFC 3526 MODP groups', () => {
  it.each(rfc3526)('group $id: size, generator and oddness', ({ group, bits }) => {
    expect(group.bits).toBe(bits);
    expect(bitLength(group.p)).toBe(bits);
    expect(group.g).toBe(2n);
    expect(group.p & 1n).toBe(1n);
    // Every RFC 3526 prime starts and ends with 64 one bits by construction.
    expect(group.p >> BigInt(bits - 64)).toBe((1n << 64n) - 1n);
    expect(group.p & ((1n << 64n) - 1n)).toBe((1n << 64n) - 1n);
  });

  it.each(rfc3526)('group $id equals the hex of RFC 3526 section $section, by digest and digit for digit', ({ group, section, bits, sha256: digest }) => {
    const digits = group.p.toString(16).toUpperCase();
    expect(hex(sha256(new TextEncoder().encode(digits)))).toBe(digest);
    const quoted = fromRfc.get(bits);
    expect(quoted?.section).toBe(section);
    expect(quoted?.hex).toBe(digits);
  });

  it.each(rfc3526)('group $id satisfies the defining formula of RFC 3526 section $section', ({ group, bits, offset }) => {
    const n = BigInt(bits);
    const expected = (1n << n) - (1n << (n - 64n)) - 1n + (1n << 64n) * (piTimesPowerOfTwo(bits - 130) + offset);
    expect(group.p).toBe(expected);
  });

  it('offers exactly these groups for group exchange, smallest first', () => {
    expect(gexGroups.map((g) => g.bits)).toEqual([2048, 3072, 4096, 6144, 8192]);
    expect(gexGroups).toEqual([modpGroup14, modpGroup15, modpGroup16, modpGroup17, modpGroup18]);
    expect(Object.isFrozen(gexGroups)).toBe(true);
  });
});

describe('private exponent size', () => {
  it.each([
    [2048, 'sha256', 256],
    [4096, 'sha512', 512],
    [8192, 'sha512', 512],
    [3072, 'sha256', 264],
    [8192, 'sha256', 384],
    [6144, 'sha256', 344],
  ] as const)('%i-bit group with %s uses %i-bit exponents', (bits, hash, expected) => {
    expect(dhExponentBits(bits, hash)).toBe(expected);
  });

  it('is at least twice the RFC 3526 section 8 strength estimate and at least the hash size', () => {
    const estimate1 = new Map([[2048, 110], [3072, 130], [4096, 150], [6144, 170], [8192, 190]]);
    for (const [bits, strength] of estimate1) {
      for (const hash of ['sha256', 'sha512'] as HashName[]) {
        const x = dhExponentBits(bits, hash);
        expect(x).toBeGreaterThanOrEqual(2 * strength);
        expect(x).toBeGreaterThanOrEqual(hash === 'sha256' ? 256 : 512);
        expect(x).toBeLessThanOrEqual(bits - 2);
      }
    }
  });

  it.each([
    [dhGroup14Sha256, 32],
    [dhGroup16Sha512, 64],
    [dhGroup18Sha512, 64],
  ] as const)('%s draws %i random bytes per side', (method, bytes) => {
    const random = recordingRandom(seededRandom('exp'));
    const client = method.clientStart(context(providers[0]!, random));
    method.serverRespond(context(providers[0]!, random), client.clientValue);
    expect(random.sizes).toEqual([bytes, bytes]);
  });
});

const fixedMethods: [KexMethod, DhGroup, HashName][] = [
  [dhGroup14Sha256, modpGroup14, 'sha256'],
  [dhGroup16Sha512, modpGroup16, 'sha512'],
  [dhGroup18Sha512, modpGroup18, 'sha512'],
];

describe.each(providers.map((p) => [p.name, p] as const))('finite-field DH on %s', (_name, crypto) => {
  describe.each(fixedMethods.map(([m, g, h]) => [m.name, m, g, h] as const))('%s', (name, method, group, hash) => {
    it('declares mpint values and secret and the RFC 8268 hash', () => {
      expect(method.name).toBe(name);
      expect(method.hash).toBe(hash);
      expect(method.valueEncoding).toBe('mpint');
      expect(method.secretEncoding).toBe('mpint');
    });

    it('agrees on K with seeded randomness and reproduces it from the same seeds', () => {
      const run = (seed: string) => {
        const client = method.clientStart(context(crypto, seededRandom(`${seed}/client`)));
        const server = method.serverRespond(context(crypto, seededRandom(`${seed}/server`)), client.clientValue);
        const k = client.finish(server.serverValue);
        expect(hex(k)).toBe(hex(server.secret));
        expect(k.length).toBe(group.bits / 8);
        return [hex(client.clientValue), hex(server.serverValue), hex(k)];
      };
      expect(run('a')).toEqual(run('a'));
      expect(run('a')).not.toEqual(run('b'));
    });

    it('computes e = g^x, f = g^y and K = g^(xy) for known small exponents', () => {
      const bytes = dhExponentBits(group.bits, hash) / 8;
      const exponent = (v: number) => bigintToBytes(BigInt(v), bytes);
      const client = method.clientStart(context(crypto, scriptedRandom(exponent(5))));
      expect(hex(client.clientValue)).toBe('20');
      const server = method.serverRespond(context(crypto, scriptedRandom(exponent(3))), client.clientValue);
      expect(hex(server.serverValue)).toBe('08');
      // 2^15 = 0x8000, left-padded to the modulus length.
      const expected = hex(bigintToBytes(1n << 15n, group.bits / 8));
      expect(hex(server.secret)).toBe(expected);
      expect(hex(client.finish(server.serverValue))).toBe(expected);
    });

    it('redraws the exponents 0 and 1', () => {
      const bytes = dhExponentBits(group.bits, hash) / 8;
      const random = scriptedRandom(bigintToBytes(0n, bytes), bigintToBytes(1n, bytes), bigintToBytes(2n, bytes));
      const client = method.clientStart(context(crypto, random));
      expect(random.remaining()).toBe(0);
      expect(hex(client.clientValue)).toBe('04');
    });

    const p = group.p;
    const badValues: [string, bigint][] = [
      ['0', 0n],
      ['1', 1n],
      ['p-1', p - 1n],
      ['p', p],
      ['p+1', p + 1n],
      ['2^bits (> p)', 1n << BigInt(group.bits)],
    ];
    it.each(badValues)('rejects peer value %s on both sides', (_what, v) => {
      const bytes = bigintToBytes(v);
      expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), bytes), /1 < v < p-1/);
      const client = method.clientStart(context(crypto, seededRandom('c')));
      expectKexFailure(() => client.finish(bytes), /1 < v < p-1/);
    });

    it('rejects an empty value (zero) and accepts the range ends 2 and p-2', () => {
      expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), new Uint8Array(0)));
      for (const v of [2n, p - 2n]) {
        expect(method.serverRespond(context(crypto, seededRandom('s')), bigintToBytes(v)).secret.length).toBe(group.bits / 8);
        const client = method.clientStart(context(crypto, seededRandom('c')));
        expect(client.finish(bigintToBytes(v)).length).toBe(group.bits / 8);
      }
    });

    it('finishes only once', () => {
      const client = method.clientStart(context(crypto, seededRandom('once/c')));
      const server = method.serverRespond(context(crypto, seededRandom('once/s')), client.clientValue);
      client.finish(server.serverValue);
      expect(thrown(() => client.finish(server.serverValue))).toBeInstanceOf(SshUsageError);
    });
  });

  it('group exchange methods agree on every group we offer', () => {
    for (const group of gexGroups.slice(0, 3)) {
      const method = dhMethodForGroup(group, 'sha256', 'diffie-hellman-group-exchange-sha256');
      const client = method.clientStart(context(crypto, seededRandom(`gex/${group.bits}/c`)));
      const server = method.serverRespond(context(crypto, seededRandom(`gex/${group.bits}/s`)), client.clientValue);
      expect(hex(client.finish(server.serverValue))).toBe(hex(server.secret));
    }
  });

  it('works in a toy safe-prime group (p = 23, q = 11), keeping the exponent below q', () => {
    const toy: DhGroup = { p: 23n, g: 5n, bits: 5 };
    const method = dhMethodForGroup(toy, 'sha256', 'toy');
    for (let i = 0; i < 20; i++) {
      const client = method.clientStart(context(crypto, seededRandom(`toy/${i}/c`)));
      const server = method.serverRespond(context(crypto, seededRandom(`toy/${i}/s`)), client.clientValue);
      expect(hex(client.finish(server.serverValue))).toBe(hex(server.secret));
    }
    expect(dhExponentBits(5, 'sha256')).toBe(3);
  });
});

describe('chooseGexGroup (RFC 4419 section 3, server side)', () => {
  it.each([
    [2048, 2048, 8192, 2048],
    [2048, 3000, 8192, 3072],
    [2048, 3072, 8192, 3072],
    [2048, 7680, 8192, 8192],
    [1024, 4097, 8192, 6144],
    [2048, 9000, 8192, 8192],
    [2048, 4096, 3072, 3072],
    [6144, 6144, 6144, 6144],
    [1024, 1024, 8192, 2048],
  ])('min %i, preferred %i, max %i -> %i bits', (min, preferred, max, bits) => {
    expect(chooseGexGroup(min, preferred, max)?.bits).toBe(bits);
  });

  it.each([
    [1024, 1024, 1536],
    [3073, 3073, 4095],
    [8193, 8193, 16384],
    [4096, 2048, 2048],
  ])('min %i, preferred %i, max %i -> no group', (min, preferred, max) => {
    expect(chooseGexGroup(min, preferred, max)).toBeNull();
  });
});

describe('validateGexGroup (RFC 4419 section 3, client side)', () => {
  it.each(gexGroups.map((g) => [g.bits, g] as const))('accepts the %i-bit group when asked for exactly that size', (bits, group) => {
    expect(() => validateGexGroup(group, bits, bits)).not.toThrow();
    expect(() => validateGexGroup(group, 2048, 8192)).not.toThrow();
  });

  it('rejects a group smaller than min or larger than max', () => {
    expectKexFailure(() => validateGexGroup(modpGroup14, 3072, 8192), /2048 bits/);
    expectKexFailure(() => validateGexGroup(modpGroup18, 2048, 4096), /8192 bits/);
  });

  it('judges size by p itself, not by the bits field it came with', () => {
    expectKexFailure(() => validateGexGroup({ ...modpGroup14, bits: 4096 }, 3072, 8192));
  });

  it('rejects an even modulus', () => {
    expectKexFailure(() => validateGexGroup({ p: modpGroup14.p + 1n, g: 2n, bits: 2048 }, 2048, 8192), /even/);
  });

  it.each([
    ['0', 0n],
    ['1', 1n],
    ['p-1', modpGroup14.p - 1n],
    ['p', modpGroup14.p],
  ])('rejects generator %s', (_what, g) => {
    expectKexFailure(() => validateGexGroup({ ...modpGroup14, g }, 2048, 8192), /generator/);
  });

  it('accepts generators 2 and p-2', () => {
    expect(() => validateGexGroup({ ...modpGroup14, g: modpGroup14.p - 2n }, 2048, 8192)).not.toThrow();
    expect(() => validateGexGroup({ ...modpGroup14, g: 2n }, 2048, 8192)).not.toThrow();
  });
});
