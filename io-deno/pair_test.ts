/**
 * The core's pair scenarios under Deno: the same engine code, no Node APIs, proving the core is
 * portable. Run by `npm run test:deno` (the `deno` npm package provides the binary).
 */
import assert from 'node:assert/strict';
import {
  generatePrivateKey,
  parseOpenSshPrivateKey,
  pureCrypto,
  seededRandom,
  supportedCipher,
  supportedKex,
} from '../core/index.ts';
import { handshakeScenario, rekeyScenario, sessionScenario } from '../core/testing/index.ts';

const fixtures = new URL('../fixtures/keys/', import.meta.url);
const rsa = parseOpenSshPrivateKey(await Deno.readTextFile(new URL('rsa-2048', fixtures)));
const hostKeys = [
  generatePrivateKey('ed25519', seededRandom('deno ed25519'), pureCrypto),
  generatePrivateKey('ecdsa-256', seededRandom('deno ecdsa'), pureCrypto),
  ...rsa,
];

for (const kex of supportedKex) {
  Deno.test(`handshake with ${kex}`, () => {
    const pair = handshakeScenario({ kex, hostKey: 'ssh-ed25519', cipher: 'chacha20-poly1305@openssh.com', mac: 'hmac-sha2-256-etm@openssh.com' }, hostKeys, pureCrypto, kex);
    assert.equal(pair.client.algorithms?.kex, kex);
  });
}

for (const cipher of supportedCipher) {
  Deno.test(`handshake with ${cipher}`, () => {
    handshakeScenario({ kex: 'curve25519-sha256', hostKey: 'rsa-sha2-512', cipher, mac: 'hmac-sha2-512' }, hostKeys, pureCrypto, cipher);
  });
}

Deno.test('re-key 20 times with interleaved traffic', () => {
  const pair = rekeyScenario(hostKeys, pureCrypto, 20);
  assert.equal(pair.server.statistics.keyExchanges, 21);
});

Deno.test('a session channel with a 1 KiB window', () => {
  sessionScenario(hostKeys, pureCrypto);
});
