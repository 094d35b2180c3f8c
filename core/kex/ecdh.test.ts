import { readFileSync } from 'node:fs';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../io-node/runtime/crypto-node.ts';
import type { EcCurve } from '../crypto/provider.ts';
import { SshUsageError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import { bigintToBytes } from '../wire/writer.ts';
import { ecdhSha2Nistp256, ecdhSha2Nistp384, ecdhSha2Nistp521, ecPointBytes, validateEcPoint } from './ecdh.ts';
import { expectKexFailure } from './tests/expect-kex.ts';
import { context, fixtureUrl, hex, coreProviders, recordingRandom, scriptedRandom, thrown, unhex } from './tests/helpers.ts';
import type { KexMethod } from './types.ts';

const providers = [...coreProviders, nodeCrypto];

interface EcdhFixture {
  curves: Record<
    EcCurve,
    {
      valid: { tcId: number; flags: string[]; private: string; public: string; shared: string }[];
      rejected: { tcId: number; flags: string[]; result: string; comment: string; public: string }[];
    }
  >;
}
const fixture = JSON.parse(readFileSync(fixtureUrl('ecdh-wycheproof.json'), 'utf8')) as EcdhFixture;

const cases: { method: KexMethod; curve: EcCurve; hash: string; fieldBytes: number; n: bigint; p: bigint }[] = [
  { method: ecdhSha2Nistp256, curve: 'p256', hash: 'sha256', fieldBytes: 32, n: p256.Point.CURVE().n, p: p256.Point.CURVE().p },
  { method: ecdhSha2Nistp384, curve: 'p384', hash: 'sha384', fieldBytes: 48, n: p384.Point.CURVE().n, p: p384.Point.CURVE().p },
  { method: ecdhSha2Nistp521, curve: 'p521', hash: 'sha512', fieldBytes: 66, n: p521.Point.CURVE().n, p: p521.Point.CURVE().p },
];

/** Hand-made malformed points: wrong form, wrong length, infinity, off the curve, coordinates >= p. */
function malformedPoints(curve: EcCurve, fieldBytes: number, p: bigint, good: Uint8Array): [string, Uint8Array][] {
  const offCurve = Uint8Array.from(good);
  offCurve[offCurve.length - 1]! ^= 1;
  const xTooBig = Uint8Array.from(good);
  xTooBig.set(bigintToBytes(p, fieldBytes), 1);
  const yPlusP = Uint8Array.from(good);
  // (x, y + p) satisfies the equation mod p, so only the range check stops it.
  const y = BigInt('0x' + hex(good.subarray(1 + fieldBytes)));
  const yp = y + p;
  const ypBytes = bigintToBytes(yp);
  const yPlusPOk = ypBytes.length === fieldBytes;
  if (yPlusPOk) yPlusP.set(ypBytes, 1 + fieldBytes);
  const compressed = Uint8Array.from([0x02 | (good[good.length - 1]! & 1), ...good.subarray(1, 1 + fieldBytes)]);
  const withPrefix = (prefix: number): Uint8Array => {
    const out = Uint8Array.from(good);
    out[0] = prefix;
    return out;
  };
  const other: EcCurve = curve === 'p256' ? 'p384' : 'p256';
  const otherPoint = (other === 'p256' ? p256 : p384).getPublicKey(new Uint8Array(other === 'p256' ? 32 : 48).fill(7), false);
  const list: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['infinity (single zero byte)', Uint8Array.of(0)],
    ['all zeros at full length', new Uint8Array(1 + 2 * fieldBytes)],
    ['0x04 then zeros: (0, 0) is not on the curve', Uint8Array.from([4, ...new Uint8Array(2 * fieldBytes)])],
    ['y with one bit flipped', offCurve],
    ['x = p', xTooBig],
    ['compressed form', compressed],
    ['hybrid prefix 0x06', withPrefix(0x06)],
    ['hybrid prefix 0x07', withPrefix(0x07)],
    ['prefix 0x02 at uncompressed length', withPrefix(0x02)],
    ['truncated by one byte', good.subarray(0, good.length - 1)],
    ['one trailing byte', Uint8Array.from([...good, 0])],
    [`a point of ${other}`, otherPoint],
  ];
  if (yPlusPOk) list.push(['y + p (reduces to a valid y)', yPlusP]);
  return list;
}

describe.each(providers.map((pr) => [pr.name, pr] as const))('ECDH methods on %s', (_name, crypto) => {
  describe.each(cases.map((c) => [c.method.name, c] as const))('%s', (_method, { method, curve, hash, fieldBytes, n, p }) => {
    const vectors = fixture.curves[curve];

    it('declares RFC 5656 encodings and the curve hash (RFC 5656 section 6.2.1)', () => {
      expect(method.hash).toBe(hash);
      expect(method.valueEncoding).toBe('string');
      expect(method.secretEncoding).toBe('mpint');
      expect(ecPointBytes(curve)).toBe(1 + 2 * fieldBytes);
    });

    it.each(vectors.valid.map((v) => [v.tcId, v] as const))('reproduces Wycheproof tcId %i on both sides', (_id, v) => {
      const client = method.clientStart(context(crypto, scriptedRandom(unhex(v.private))));
      expect(hex(client.finish(unhex(v.public)))).toBe(v.shared);
      const server = method.serverRespond(context(crypto, scriptedRandom(unhex(v.private))), unhex(v.public));
      expect(hex(server.secret)).toBe(v.shared);
      expect(hex(server.serverValue)).toBe(hex(client.clientValue));
    });

    it('keeps K at full field length when the x coordinate has leading zeros', () => {
      const v = vectors.valid.find((t) => t.shared.startsWith('00'));
      expect(v).toBeDefined();
      const client = method.clientStart(context(crypto, scriptedRandom(unhex(v!.private))));
      expect(client.finish(unhex(v!.public)).length).toBe(fieldBytes);
    });

    it('agrees on K with seeded randomness and reproduces it from the same seeds', () => {
      const run = (seed: string) => {
        const client = method.clientStart(context(crypto, seededRandom(`${seed}/client`)));
        const server = method.serverRespond(context(crypto, seededRandom(`${seed}/server`)), client.clientValue);
        const k = client.finish(server.serverValue);
        expect(hex(k)).toBe(hex(server.secret));
        expect(client.clientValue.length).toBe(1 + 2 * fieldBytes);
        expect(server.serverValue.length).toBe(1 + 2 * fieldBytes);
        expect(client.clientValue[0]).toBe(4);
        expect(k.length).toBe(fieldBytes);
        return [hex(client.clientValue), hex(server.serverValue), hex(k)];
      };
      expect(run('a')).toEqual(run('a'));
      expect(run('a')).not.toEqual(run('b'));
    });

    it(`rejects every Wycheproof point that is not a valid uncompressed point (${vectors.rejected.length} cases)`, () => {
      expect(vectors.rejected.length).toBeGreaterThan(0);
      for (const v of vectors.rejected) {
        expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), unhex(v.public)));
        const client = method.clientStart(context(crypto, seededRandom('c')));
        expectKexFailure(() => client.finish(unhex(v.public)));
      }
    });

    const good = method.clientStart(context(crypto, seededRandom('good'))).clientValue;
    it.each(malformedPoints(curve, fieldBytes, p, good))('rejects %s on both sides', (_what, point) => {
      expectKexFailure(() => validateEcPoint(curve, point, 'peer'));
      expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), point));
      const client = method.clientStart(context(crypto, seededRandom('c')));
      expectKexFailure(() => client.finish(point));
    });

    it('samples the private scalar by rejection: out-of-range candidates are redrawn', () => {
      const tooBig = new Uint8Array(fieldBytes).fill(0xff);
      const zero = new Uint8Array(fieldBytes);
      const orderItself = bigintToBytes(n, fieldBytes);
      const ok = new Uint8Array(fieldBytes);
      ok[fieldBytes - 1] = 5;
      const random = scriptedRandom(tooBig, zero, orderItself, ok);
      const client = method.clientStart(context(crypto, random));
      expect(random.remaining()).toBe(0);
      expect(hex(client.clientValue)).toBe(hex(crypto.ecdhPublicKey(curve, ok)));
    });

    it('accepts n - 1 as a scalar', () => {
      const nMinus1 = bigintToBytes(n - 1n, fieldBytes);
      const client = method.clientStart(context(crypto, scriptedRandom(nMinus1)));
      expect(hex(client.clientValue)).toBe(hex(crypto.ecdhPublicKey(curve, nMinus1)));
    });

    it('draws exactly one field-sized scalar per side in the common case', () => {
      const random = recordingRandom(seededRandom('sizes'));
      const client = method.clientStart(context(crypto, random));
      method.serverRespond(context(crypto, random), client.clientValue);
      expect(random.sizes).toEqual([fieldBytes, fieldBytes]);
    });

    it('reports a random source that never yields a usable scalar as local misuse, not a peer fault', () => {
      expect(thrown(() => method.clientStart(context(crypto, (k) => new Uint8Array(k))))).toBeInstanceOf(SshUsageError);
    });
  });
});
