import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../io-node/runtime/crypto-node.ts';
import { SshUsageError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import { curve25519Sha256, curve25519Sha256Libssh } from './curve25519.ts';
import { expectKexFailure } from './tests/expect-kex.ts';
import { context, fixtureUrl, hex, coreProviders, scriptedRandom, thrown, unhex } from './tests/helpers.ts';

const providers = [...coreProviders, nodeCrypto];

// RFC 7748 section 5.2 (scalar, input u, output u) and section 6.1 (Alice and Bob).
const rfc7748Section52 = [
  {
    scalar: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  },
  {
    scalar: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  },
];
const rfc7748Section61 = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPrivate: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
};

interface ZeroSharedFixture {
  vectors: { tcId: number; flags: string[]; private: string; public: string }[];
}
const zeroShared = JSON.parse(readFileSync(fixtureUrl('x25519-zero-shared.json'), 'utf8')) as ZeroSharedFixture;

// The values of the cr.yp.to/ecdh.html rejection list that fit in 255 bits: 0, 1, the two points
// of order 8, and p-1, p, p+1. RFC 7748 section 6.1's all-zero check is what catches them. The
// Wycheproof fixture adds their top-bit-set encodings, which X25519 masks back to the same points.
const crYpToLowOrder = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

const methods = [curve25519Sha256, curve25519Sha256Libssh];

describe.each(providers.map((p) => [p.name, p] as const))('curve25519 methods on %s', (_name, crypto) => {
  describe.each(methods.map((m) => [m.name, m] as const))('%s', (_method, method) => {
    it('declares RFC 8731 encodings and hash', () => {
      expect(method.hash).toBe('sha256');
      expect(method.valueEncoding).toBe('string');
      expect(method.secretEncoding).toBe('mpint');
    });

    it.each(rfc7748Section52)('reproduces RFC 7748 section 5.2 vector $out', ({ scalar, u, out }) => {
      const client = method.clientStart(context(crypto, scriptedRandom(unhex(scalar))));
      expect(hex(client.finish(unhex(u)))).toBe(out);
    });

    it('reproduces the RFC 7748 section 6.1 exchange end to end', () => {
      const v = rfc7748Section61;
      const client = method.clientStart(context(crypto, scriptedRandom(unhex(v.alicePrivate))));
      expect(hex(client.clientValue)).toBe(v.alicePublic);
      const server = method.serverRespond(context(crypto, scriptedRandom(unhex(v.bobPrivate))), client.clientValue);
      expect(hex(server.serverValue)).toBe(v.bobPublic);
      expect(hex(server.secret)).toBe(v.shared);
      expect(hex(client.finish(server.serverValue))).toBe(v.shared);
    });

    it('agrees on K with seeded randomness and reproduces it from the same seeds', () => {
      const run = (seed: string) => {
        const client = method.clientStart(context(crypto, seededRandom(`${seed}/client`)));
        const server = method.serverRespond(context(crypto, seededRandom(`${seed}/server`)), client.clientValue);
        const k = client.finish(server.serverValue);
        expect(hex(k)).toBe(hex(server.secret));
        expect(client.clientValue.length).toBe(32);
        expect(server.serverValue.length).toBe(32);
        expect(k.length).toBe(32);
        return [hex(client.clientValue), hex(server.serverValue), hex(k)];
      };
      expect(run('a')).toEqual(run('a'));
      expect(run('a')).not.toEqual(run('b'));
    });

    it.each([0, 1, 31, 33, 64])('rejects a %i-byte public key on both sides', (length) => {
      const bad = new Uint8Array(length).fill(9);
      expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), bad), /32/);
      const client = method.clientStart(context(crypto, seededRandom('c')));
      expectKexFailure(() => client.finish(bad), /32/);
    });

    it.each(crYpToLowOrder)('rejects low-order point %s on both sides', (point) => {
      expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), unhex(point)));
      const client = method.clientStart(context(crypto, seededRandom('c')));
      expectKexFailure(() => client.finish(unhex(point)));
    });

    it(`rejects all ${zeroShared.vectors.length} Wycheproof zero-shared-secret cases`, () => {
      for (const v of zeroShared.vectors) {
        expectKexFailure(() => method.serverRespond(context(crypto, scriptedRandom(unhex(v.private))), unhex(v.public)));
        const client = method.clientStart(context(crypto, scriptedRandom(unhex(v.private))));
        expectKexFailure(() => client.finish(unhex(v.public)));
      }
    });

    it('rejects an all-zero result itself even when the provider returns one without complaint', () => {
      const lax = new Proxy(crypto, {
        get: (target, key) => (key === 'x25519SharedSecret' ? () => new Uint8Array(32) : Reflect.get(target, key)),
      });
      expectKexFailure(() => method.serverRespond(context(lax, seededRandom('s')), unhex(rfc7748Section61.alicePublic)), /all-zero/);
      const client = method.clientStart(context(lax, seededRandom('c')));
      expectKexFailure(() => client.finish(unhex(rfc7748Section61.bobPublic)), /all-zero/);
    });

    it('finishes only once', () => {
      const client = method.clientStart(context(crypto, seededRandom('once/c')));
      const server = method.serverRespond(context(crypto, seededRandom('once/s')), client.clientValue);
      client.finish(server.serverValue);
      expect(thrown(() => client.finish(server.serverValue))).toBeInstanceOf(SshUsageError);
    });
  });
});
