import { describe, it, expect } from 'vitest';
import { chacha20, chacha20Xor } from './chacha20.ts';
import { poly1305 } from './poly1305.ts';
import { chacha20Vectors, poly1305Vectors, poly1305KeyGenVectors } from '../../../fixtures/crypto/rfc8439.ts';
import { hex, toHex, djbFromIetf } from '../../../fixtures/crypto/util.ts';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { poly1305 as noblePoly } from '@noble/ciphers/_poly1305.js';

describe('chacha20 (DJB form)', () => {
  for (const v of chacha20Vectors) {
    it(v.source, () => {
      const { nonce8, counter } = djbFromIetf(hex(v.nonce), v.counter);
      expect(toHex(chacha20(hex(v.key), nonce8, counter, hex(v.plaintext)))).toBe(v.ciphertext);
    });
  }

  it('gives the same bytes aligned, unaligned and in place', () => {
    const key = hex('1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0');
    const nonce = hex('0001020304050607');
    for (const len of [0, 1, 63, 64, 65, 127, 128, 1000]) {
      const data = new Uint8Array(len).map((_, i) => i * 7);
      const expected = chacha20orig(key, nonce, data, undefined, 3);
      expect(toHex(chacha20(key, nonce, 3, data))).toBe(toHex(expected));
      const buf = new Uint8Array(len + 3);
      buf.set(data, 1);
      const view = buf.subarray(1, 1 + len);
      chacha20Xor(key, nonce, 3, view, view);
      expect(toHex(view)).toBe(toHex(expected));
    }
  });

  it('carries the block counter into the high word', () => {
    const key = new Uint8Array(32).fill(9);
    const nonce = new Uint8Array(8).fill(1);
    // Blocks 2^32-1 and 2^32: the second must use counter words (0, 1).
    const two = chacha20(key, nonce, 4294967295, new Uint8Array(128));
    const second = chacha20(key, nonce, 4294967296, new Uint8Array(64));
    expect(toHex(two.subarray(64))).toBe(toHex(second));
    expect(toHex(second)).not.toBe(toHex(chacha20(key, nonce, 0, new Uint8Array(64))));
  });
});

describe('poly1305', () => {
  for (const v of poly1305Vectors) {
    it(v.source, () => {
      expect(toHex(poly1305(hex(v.key), hex(v.message)))).toBe(v.tag);
    });
  }

  for (const v of poly1305KeyGenVectors) {
    it(`${v.source} (key generation from ChaCha20 block 0)`, () => {
      const { nonce8, counter } = djbFromIetf(hex(v.nonce), 0);
      expect(toHex(chacha20(hex(v.key), nonce8, counter, new Uint8Array(32)))).toBe(v.oneTimeKey);
    });
  }

  it('agrees with an independent implementation on many lengths and extreme keys', () => {
    let seed = 1;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let len = 0; len < 300; len++) {
      for (const fill of ['random', 'ones']) {
        const key = new Uint8Array(32).map(() => (fill === 'ones' ? 0xff : rnd()));
        const msg = new Uint8Array(len).map(() => (fill === 'ones' ? 0xff : rnd()));
        expect(toHex(poly1305(key, msg))).toBe(toHex(noblePoly(msg, key)));
      }
    }
  });

  it('gives the same tag for unaligned views of the message', () => {
    const key = new Uint8Array(32).map((_, i) => i * 13 + 1);
    const buf = new Uint8Array(4100).map((_, i) => (i * 31) & 0xff);
    for (const [start, len] of [[1, 4096], [2, 100], [3, 33], [5, 64], [0, 4096]] as const) {
      const msg = buf.subarray(start, start + len);
      expect(toHex(poly1305(key, msg))).toBe(toHex(noblePoly(msg.slice(), key)));
    }
  });
});
