/**
 * Transcripts recorded against OpenSSH's sshd (fixtures/transcripts/, made by
 * io-node/tools/record-transcripts.ts): replaying the server's bytes into a client with the seed
 * used at recording time must reproduce, byte for byte, what our client sent then. Every encrypted
 * packet from sshd must decrypt and authenticate under the keys we derive, so these are vectors for
 * each kex, the key derivation, and every cipher and MAC, computed by OpenSSH.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../crypto/pure.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { SshEngine } from '../engine.ts';
import type { SshEvent } from '../events.ts';
import { decodeBase64 } from '../keys/base64.ts';
import { seededRandom } from '../random.ts';
import { nodeCrypto } from '../../io-node/runtime/crypto-node.ts';

interface Transcript {
  recordedWith: string;
  name: string;
  kex: string;
  hostKey: string;
  cipher: string;
  mac: string;
  seed: string;
  username: string;
  algorithms: Record<string, unknown>;
  authMethods: string[];
  serverSigAlgs: string[] | null;
  serverVersion: string;
  serverToClient: string;
  clientToServer: string;
}

const dir = new URL('../../fixtures/transcripts/', import.meta.url);
const transcripts: Transcript[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Transcript);

function replay(t: Transcript, crypto: CryptoProvider, chunk: number) {
  const algorithms = { kex: [t.kex], hostKey: [t.hostKey], cipher: [t.cipher], mac: [t.mac] };
  const client = new SshEngine({ role: 'client', now: 0, crypto, random: seededRandom(t.seed), algorithms, username: t.username });
  const events: SshEvent[] = [];
  const sent: number[] = [];
  const drain = () => {
    for (;;) {
      const out = client.pollTransmit();
      if (out) sent.push(...out);
      const e = client.pollEvent();
      if (e) events.push(e);
      if (e?.type === 'decision') client.resolve(e.decision.id, e.decision.kind === 'hostKey' ? true : null, 0);
      if (!out && !e) return;
    }
  };
  drain();
  const input = decodeBase64(t.serverToClient);
  for (let o = 0; o < input.length; o += chunk) {
    client.receive(input.subarray(o, o + chunk), 0);
    drain();
  }
  return { client, events, sent: Uint8Array.from(sent) };
}

describe('transcripts recorded against OpenSSH', () => {
  it('cover every kex, cipher and MAC OpenSSH 9.2 shares with us', () => {
    expect(transcripts.length).toBe(21);
    expect(transcripts.every((t) => t.recordedWith.startsWith('OpenSSH_9.2'))).toBe(true);
  });

  for (const t of transcripts) {
    for (const [crypto, chunk] of [[pureCrypto, 1 << 20], [nodeCrypto, 7]] as const) {
      it(`${t.name} (${crypto.name}, ${chunk === 7 ? '7-byte chunks' : 'one chunk'})`, () => {
        const { client, events, sent } = replay(t, crypto, chunk);
        // The recording stopped at sshd's answer to `none`; with no credentials the client then
        // gives up and says so (one DISCONNECT after the recorded bytes).
        const closed = events.find((e) => e.type === 'closed');
        expect(closed?.type === 'closed' && closed.error?.code).toBe('AUTH_FAILED');
        expect(client.peerIdentification).toBe(t.serverVersion);
        expect(client.algorithms).toEqual(t.algorithms);
        const failure = events.find((e) => e.type === 'authFailure');
        expect(failure?.type === 'authFailure' && failure.methods).toEqual(t.authMethods);
        expect(client.serverSignatureAlgorithms).toEqual(t.serverSigAlgs);
        const recorded = decodeBase64(t.clientToServer);
        expect(sent.subarray(0, recorded.length)).toEqual(recorded);
        expect(sent.length - recorded.length).toBeLessThan(200);
      });
    }
  }

  it('a single flipped bit in an encrypted server packet is a MAC error', () => {
    const t = transcripts.find((x) => x.name === 'cipher-aes256-gcm@openssh.com')!;
    const bytes = decodeBase64(t.serverToClient);
    bytes[bytes.length - 20]! ^= 0x10;
    const { events } = replay({ ...t, serverToClient: btoa(String.fromCharCode(...bytes)) }, pureCrypto, 1 << 20);
    const closed = events.find((e) => e.type === 'closed');
    expect(closed?.type === 'closed' && closed.error?.code).toBe('MAC_INVALID');
  });
});
