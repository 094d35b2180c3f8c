import { describe, it, expect } from 'vitest';
import * as nc from 'node:crypto';
import { nodeCrypto } from './crypto-node.ts';
import { type AeadCipher, type AeadWithAadPrefix, createOpener, createSealer, pureCrypto, seededRandom } from '../../core/index.ts';
import { describeProviderVectors, modPowNaive } from '../../fixtures/crypto/provider-suite.ts';
import { combinations, describePacketProtection, keysFor, makePacket } from '../../fixtures/crypto/packet-suite.ts';
import { chachaPolyPacketVector } from '../../fixtures/crypto/packet-vectors.ts';
import { hex, toHex } from '../../fixtures/crypto/util.ts';

describeProviderVectors(nodeCrypto);
describePacketProtection(nodeCrypto);

describe('node: chacha20-poly1305@openssh.com known packet', () => {
  it('matches the vector composed from the RFC 8439 primitives', () => {
    const v = chachaPolyPacketVector;
    const keys = { key: hex(v.key), iv: new Uint8Array(0), macKey: new Uint8Array(0) };
    expect(toHex(createSealer(nodeCrypto, 'chacha20-poly1305@openssh.com', null, keys).seal(v.seq, hex(v.plain)))).toBe(v.wire);
  });
});

describe('node and pure seal identically and open each other', () => {
  for (const [cipher, mac] of combinations) {
    it(mac ? `${cipher} + ${mac}` : cipher, () => {
      const keys = keysFor(cipher, mac, `cross ${cipher} ${mac}`);
      const a = createSealer(nodeCrypto, cipher, mac, keys);
      const b = createSealer(pureCrypto, cipher, mac, keys);
      const fromNode = createOpener(pureCrypto, cipher, mac, keys);
      const fromPure = createOpener(nodeCrypto, cipher, mac, keys);
      const random = seededRandom(`payloads ${cipher} ${mac}`);
      for (let seq = 0xfffffff0; seq < 0xfffffff0 + 40; seq++) {
        const pk = makePacket(random(random(1)[0]! * 7), a.blockSize, a.lengthExcludedFromPadding, seq % 3);
        const w1 = a.seal(seq, pk);
        const w2 = b.seal(seq, pk);
        expect(toHex(w1)).toBe(toHex(w2));
        expect(fromNode.decryptLength(seq, w1.subarray(0, fromNode.lengthBytes))).toBe(pk.length - 4);
        expect(toHex(fromNode.open(seq, w1)!)).toBe(toHex(pk));
        expect(fromPure.decryptLength(seq, w2.subarray(0, fromPure.lengthBytes))).toBe(pk.length - 4);
        expect(toHex(fromPure.open(seq, w2)!)).toBe(toHex(pk));
      }
    });
  }
});

describe('node: modPow', () => {
  it('uses OpenSSL for the built-in MODP groups and agrees with BigInt there', () => {
    for (const name of ['modp14', 'modp16']) {
      const p = BigInt('0x' + nc.getDiffieHellman(name).getPrime('hex'));
      const x = BigInt('0x' + toHex(seededRandom(name)(64)));
      const e = nodeCrypto.modPow(2n, x, p);
      expect(e).toBe(modPowNaive(2n, x, p));
      const y = BigInt('0x' + toHex(seededRandom(name + 'y')(64)));
      expect(nodeCrypto.modPow(e, y, p)).toBe(modPowNaive(e, y, p));
      // Values OpenSSL would refuse as DH public keys still get an answer.
      expect(nodeCrypto.modPow(p - 1n, 3n, p)).toBe(p - 1n);
      expect(nodeCrypto.modPow(1n, x, p)).toBe(1n);
      expect(nodeCrypto.modPow(p + 5n, 2n, p)).toBe(25n);
    }
  });

  it('rejects bad arguments like the pure provider', () => {
    expect(() => nodeCrypto.modPow(2n, 3n, 0n)).toThrow(RangeError);
    expect(() => nodeCrypto.modPow(2n, -1n, 7n)).toThrow(RangeError);
  });
});

describe('node: key caches follow the bytes, not the array', () => {
  it('re-imports a reused Ed25519 seed array after it changed', () => {
    const seed = new Uint8Array(32).fill(1);
    const pub1 = nodeCrypto.ed25519PublicKey(seed);
    seed.fill(2);
    const pub2 = nodeCrypto.ed25519PublicKey(seed);
    expect(toHex(pub2)).not.toBe(toHex(pub1));
    expect(toHex(pub2)).toBe(toHex(pureCrypto.ed25519PublicKey(seed)));
  });

  it('re-imports a reused ECDH private key array after it changed', () => {
    const priv = new Uint8Array(32).fill(3);
    const a = nodeCrypto.ecdhPublicKey('p256', priv);
    priv.fill(4);
    expect(toHex(nodeCrypto.ecdhPublicKey('p256', priv))).not.toBe(toHex(a));
    expect(toHex(nodeCrypto.ecdhPublicKey('p256', priv))).toBe(toHex(pureCrypto.ecdhPublicKey('p256', priv)));
  });
});

describe('node: outputs are plain Uint8Arrays', () => {
  it('never hands out Buffers', () => {
    const outs = [
      nodeCrypto.hash('sha256', new Uint8Array(3)),
      nodeCrypto.chacha20(new Uint8Array(32), new Uint8Array(8), 0, new Uint8Array(5)),
      nodeCrypto.createAesGcm(new Uint8Array(16)).seal(new Uint8Array(12), new Uint8Array(0), new Uint8Array(5)),
      nodeCrypto.ed25519Sign(new Uint8Array(32), new Uint8Array(1)),
    ];
    for (const o of outs) expect(Object.getPrototypeOf(o)).toBe(Uint8Array.prototype);
  });
});

describe('Node Buffers as inputs', () => {
  // Buffer.prototype.slice is a view, not a copy: state derived from caller arrays must still be private.
  for (const provider of [nodeCrypto, pureCrypto]) {
    for (const [cipher, mac] of combinations) {
      it(`${provider.name}: ${cipher} ${mac ?? ''} with Buffer keys and packets`, () => {
        const k = keysFor(cipher, mac, 'buffers');
        const keys = { key: Buffer.from(k.key), iv: Buffer.from(k.iv), macKey: Buffer.from(k.macKey) };
        const ivBefore = toHex(keys.iv);
        const sealer = createSealer(provider, cipher, mac, keys);
        const opener = createOpener(provider, cipher, mac, keys);
        const pks = [0, 1, 2].map((i) => Buffer.from(makePacket(new Uint8Array(40 * i + 3).fill(i), sealer.blockSize, sealer.lengthExcludedFromPadding)));
        const wires = pks.map((pk, i) => sealer.seal(i, pk));
        wires.forEach((w, i) => {
          expect(opener.decryptLength(i, Buffer.from(w.subarray(0, opener.lengthBytes)))).toBe(pks[i]!.length - 4);
          expect(toHex(opener.open(i, Buffer.from(w))!)).toBe(toHex(pks[i]!));
        });
        expect(toHex(keys.iv)).toBe(ivBefore);
      });
    }
  }

  it('AES-CTR does not advance a Buffer IV it was given', () => {
    for (const provider of [nodeCrypto, pureCrypto]) {
      const iv = Buffer.alloc(16, 7);
      provider.createAesCtr(Buffer.alloc(16, 1), iv).update(new Uint8Array(100));
      expect(iv.every((b) => b === 7)).toBe(true);
    }
  });

  it('none sealer/opener return copies even for Buffers', () => {
    const pk = Buffer.from(makePacket(Uint8Array.of(1), 8, false));
    const wire = createSealer(nodeCrypto, 'none', null, { key: new Uint8Array(0), iv: new Uint8Array(0), macKey: new Uint8Array(0) }).seal(0, pk);
    pk[5] = 99;
    expect(wire[5]).toBe(1);
  });
});

describe('node: AES-GCM with the AAD in front (AeadWithAadPrefix)', () => {
  it('equals aad || seal and aad || open, and refuses a bad tag', () => {
    const aead = nodeCrypto.createAesGcm(new Uint8Array(32).fill(6)) as AeadCipher & AeadWithAadPrefix;
    expect(typeof aead.sealWithAad).toBe('function');
    const nonce = new Uint8Array(12).fill(1);
    const aad = Uint8Array.of(0, 0, 1, 0);
    for (const n of [0, 1, 15, 16, 1000]) {
      const pt = new Uint8Array(n).fill(n & 0xff);
      const sealed = aead.seal(nonce, aad, pt);
      const prefixed = aead.sealWithAad(nonce, aad, pt);
      expect(toHex(prefixed)).toBe(toHex(aad) + toHex(sealed));
      expect(toHex(aead.openWithAad(nonce, aad, sealed)!)).toBe(toHex(aad) + toHex(pt));
      const bad = sealed.slice();
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
      expect(aead.openWithAad(nonce, aad, bad)).toBeNull();
      expect(aead.openWithAad(nonce, aad, sealed.subarray(0, 15))).toBeNull();
    }
  });
});
