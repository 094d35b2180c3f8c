import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../io-node/runtime/crypto-node.ts';
import { SshUsageError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import {
  MLKEM768_CIPHERTEXT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  MLKEM768X25519_CLIENT_VALUE_BYTES,
  MLKEM768X25519_SERVER_VALUE_BYTES,
  mlkem768x25519Sha256 as method,
} from './mlkem.ts';
import { expectKexFailure } from './tests/expect-kex.ts';
import { context, fixtureUrl, hex, coreProviders, recordingRandom, scriptedRandom, thrown, unhex } from './tests/helpers.ts';

const providers = [...coreProviders, nodeCrypto];

interface MlkemFixture {
  keygenDecaps: { tcId: number; seed: string; ek: string; c: string; K: string };
  encaps: { tcId: number; ek: string; m: string; c: string; K: string };
  invalidEncapsulationKeys: { tcId: number; flags: string[]; ek: string }[];
}
const kat = JSON.parse(readFileSync(fixtureUrl('mlkem768-wycheproof.json'), 'utf8')) as MlkemFixture;

// RFC 7748 section 6.1: Alice plays the client's X25519 half, Bob the server's.
const alice = {
  priv: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  pub: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
};
const bob = {
  priv: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  pub: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
};
const x25519Shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

describe('mlkem768x25519-sha256 constants', () => {
  it('uses the FIPS 203 ML-KEM-768 sizes and the draft concatenations', () => {
    expect(MLKEM768_PUBLIC_KEY_BYTES).toBe(1184);
    expect(MLKEM768_CIPHERTEXT_BYTES).toBe(1088);
    expect(MLKEM768X25519_CLIENT_VALUE_BYTES).toBe(1216);
    expect(MLKEM768X25519_SERVER_VALUE_BYTES).toBe(1120);
    expect(method.name).toBe('mlkem768x25519-sha256');
    expect(method.hash).toBe('sha256');
    expect(method.valueEncoding).toBe('string');
    expect(method.secretEncoding).toBe('string');
  });

  it('the two Wycheproof ML-KEM vectors describe one key pair and one encapsulation', () => {
    // This is what lets the hybrid known-answer test below chain keygen -> encaps -> decaps.
    expect(kat.encaps.ek).toBe(kat.keygenDecaps.ek);
    expect(kat.encaps.c).toBe(kat.keygenDecaps.c);
    expect(kat.encaps.K).toBe(kat.keygenDecaps.K);
  });
});

describe.each(providers.map((p) => [p.name, p] as const))('mlkem768x25519-sha256 on %s', (_name, crypto) => {
  it('known answer: Wycheproof ML-KEM-768 (FIPS 203) + RFC 7748 section 6.1 X25519, end to end', () => {
    const client = method.clientStart(context(crypto, scriptedRandom(unhex(kat.keygenDecaps.seed), unhex(alice.priv))));
    expect(hex(client.clientValue)).toBe(kat.keygenDecaps.ek + alice.pub);

    const server = method.serverRespond(context(crypto, scriptedRandom(unhex(kat.encaps.m), unhex(bob.priv))), client.clientValue);
    expect(hex(server.serverValue)).toBe(kat.encaps.c + bob.pub);

    // K = SHA-256(K_PQ || K_CL), draft section 2.4, computed here from the published components.
    const expectedK = hex(sha256(unhex(kat.encaps.K + x25519Shared)));
    expect(hex(server.secret)).toBe(expectedK);
    expect(hex(client.finish(server.serverValue))).toBe(expectedK);
  });

  it('draws the ML-KEM randomness first, then the X25519 scalar, on each side', () => {
    const random = recordingRandom(seededRandom('sizes'));
    const client = method.clientStart(context(crypto, random));
    method.serverRespond(context(crypto, random), client.clientValue);
    expect(random.sizes).toEqual([64, 32, 32, 32]);
  });

  it('agrees on K with seeded randomness and reproduces it from the same seeds', () => {
    const run = (seed: string) => {
      const client = method.clientStart(context(crypto, seededRandom(`${seed}/client`)));
      const server = method.serverRespond(context(crypto, seededRandom(`${seed}/server`)), client.clientValue);
      const k = client.finish(server.serverValue);
      expect(hex(k)).toBe(hex(server.secret));
      expect(client.clientValue.length).toBe(1216);
      expect(server.serverValue.length).toBe(1120);
      expect(k.length).toBe(32);
      return [hex(client.clientValue), hex(server.serverValue), hex(k)];
    };
    expect(run('a')).toEqual(run('a'));
    expect(run('a')).not.toEqual(run('b'));
  });

  it.each([0, 32, 1184, 1215, 1217, 2432])('server rejects a %i-byte C_INIT', (length) => {
    const good = method.clientStart(context(crypto, seededRandom('c'))).clientValue;
    const bad = new Uint8Array(length);
    bad.set(good.subarray(0, Math.min(length, good.length)));
    expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), bad), /C_INIT is \d+ bytes, expected 1216/);
  });

  it.each([0, 32, 1088, 1119, 1121, 2240])('client rejects a %i-byte S_REPLY', (length) => {
    const client = method.clientStart(context(crypto, seededRandom('c')));
    const good = method.serverRespond(context(crypto, seededRandom('s')), client.clientValue).serverValue;
    const bad = new Uint8Array(length);
    bad.set(good.subarray(0, Math.min(length, good.length)));
    expectKexFailure(() => client.finish(bad), /S_REPLY is \d+ bytes, expected 1120/);
  });

  it.each(kat.invalidEncapsulationKeys.map((v) => [v.tcId, v] as const))(
    'server rejects Wycheproof encapsulation key tcId %i that fails the FIPS 203 modulus check',
    (_id, v) => {
      const cInit = unhex(v.ek + alice.pub);
      expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), cInit), /encapsulation key/);
    },
  );

  it.each([
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0100000000000000000000000000000000000000000000000000000000000000',
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  ])('rejects the low-order X25519 half %s on both sides', (point) => {
    const client = method.clientStart(context(crypto, seededRandom('c')));
    const cInit = Uint8Array.from(client.clientValue);
    cInit.set(unhex(point), MLKEM768_PUBLIC_KEY_BYTES);
    expectKexFailure(() => method.serverRespond(context(crypto, seededRandom('s')), cInit), /all-zero|rejected/);

    const sReply = Uint8Array.from(method.serverRespond(context(crypto, seededRandom('s')), client.clientValue).serverValue);
    sReply.set(unhex(point), MLKEM768_CIPHERTEXT_BYTES);
    expectKexFailure(() => client.finish(sReply), /all-zero|rejected/);
  });

  it('a tampered ciphertext is implicitly rejected: no error, but the two sides no longer agree', () => {
    const client = method.clientStart(context(crypto, seededRandom('c')));
    const server = method.serverRespond(context(crypto, seededRandom('s')), client.clientValue);
    const tampered = Uint8Array.from(server.serverValue);
    tampered[100]! ^= 1;
    const k = client.finish(tampered);
    expect(k.length).toBe(32);
    expect(hex(k)).not.toBe(hex(server.secret));
  });

  it('finishes only once', () => {
    const client = method.clientStart(context(crypto, seededRandom('once/c')));
    const server = method.serverRespond(context(crypto, seededRandom('once/s')), client.clientValue);
    client.finish(server.serverValue);
    expect(thrown(() => client.finish(server.serverValue))).toBeInstanceOf(SshUsageError);
  });
});
