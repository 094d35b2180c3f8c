/**
 * The Deno adapter over real loopback TCP: a Deno client engine and a Deno server engine complete
 * the handshake, learn the auth methods, re-key, and close cleanly with a DISCONNECT.
 */
import assert from 'node:assert/strict';
import { fingerprintSha256, generatePrivateKey, pureCrypto, type SshEvent, systemRandom } from '../core/index.ts';
import { connect, listen } from './net.ts';

Deno.test('Deno client and server over loopback TCP', async () => {
  const hostKey = generatePrivateKey('ed25519', systemRandom, pureCrypto);
  const serverEvents: SshEvent[] = [];
  const server = listen({ port: 0, hostKeys: [hostKey], crypto: pureCrypto, acceptNoneAuthentication: true, onEvent: (e) => serverEvents.push(e) });
  try {
    const events: SshEvent[] = [];
    let seenFingerprint = '';
    let authenticated!: () => void;
    const authed = new Promise<void>((r) => (authenticated = r));
    let rekeyed!: () => void;
    const rekeyDone = new Promise<void>((r) => (rekeyed = r));
    const pump = await connect({
      hostname: '127.0.0.1',
      port: server.port,
      crypto: pureCrypto,
      username: 'anonymous',
      onHostKey: async (d) => {
        seenFingerprint = d.fingerprint;
        await new Promise((r) => setTimeout(r, 5)); // an asynchronous answer
        return true;
      },
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'authSuccess') authenticated();
        if (e.type === 'kexComplete' && !e.initial) rekeyed();
      },
    });
    await authed;
    assert.equal(seenFingerprint, fingerprintSha256(hostKey.publicKey.blob));
    pump.command((engine, now) => engine.rekey(now));
    await rekeyDone;
    pump.disconnect('done');
    assert.equal(await pump.closed, null);
    const kinds = events.map((e) => e.type);
    assert.deepEqual(kinds.filter((k) => k === 'kexComplete').length, 2);
    assert.equal(kinds.at(-1), 'closed');
  } finally {
    server.close();
  }
});
