/**
 * Every combination of kex × host key × cipher × MAC completes a handshake between two engines in
 * memory, with the node:crypto provider (the pure provider runs each axis in core/engine.test.ts).
 * AEAD ciphers carry their own integrity, so for them the MAC axis collapses to one case.
 */
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import {
  generatePrivateKey,
  parseOpenSshPrivateKey,
  supportedCipher,
  supportedHostKey,
  supportedKex,
  supportedMac,
  systemRandom,
} from '../../core/index.ts';
import { handshakeScenario } from '../../core/testing/index.ts';
import { nodeCrypto } from './crypto-node.ts';

const hostKeys = [
  generatePrivateKey('ed25519', systemRandom, nodeCrypto),
  generatePrivateKey('ecdsa-256', systemRandom, nodeCrypto),
  generatePrivateKey('ecdsa-384', systemRandom, nodeCrypto),
  generatePrivateKey('ecdsa-521', systemRandom, nodeCrypto),
  ...parseOpenSshPrivateKey(readFileSync(new URL('../../fixtures/keys/rsa-2048', import.meta.url), 'utf8')),
];
const plainHostKeyAlgorithms = supportedHostKey.filter((a) => !a.includes('-cert-'));
const aead = (c: string) => c.includes('poly1305') || c.includes('gcm');

describe('kex × host key × cipher × MAC (node provider)', () => {
  for (const kex of supportedKex) {
    it(kex, () => {
      let n = 0;
      for (const hostKey of plainHostKeyAlgorithms) {
        for (const cipher of supportedCipher) {
          for (const mac of aead(cipher) ? [supportedMac[0]] : supportedMac) {
            handshakeScenario({ kex, hostKey, cipher, mac }, hostKeys, nodeCrypto, `${kex}/${hostKey}/${cipher}/${mac}`);
            n++;
          }
        }
      }
      if (n !== plainHostKeyAlgorithms.length * (3 + 3 * supportedMac.length)) throw new Error(`ran ${n} combinations`);
    });
  }
});
