/**
 * Records the fixtures in fixtures/transcripts/: our client engine, driven by a seeded random
 * source, talks to a real OpenSSH `sshd` (started here on 127.0.0.1 with a private config) until
 * the server answers the `none` authentication request. Both byte streams are saved. Replaying the
 * server's bytes into a client with the same seed must reproduce the client's bytes exactly
 * (core/transport/transcripts.test.ts): that proves our kex, key derivation, ciphers and MACs
 * compute what OpenSSH computes.
 *
 * Run: `npx deno run -A io-node/tools/record-transcripts.ts` (Deno runs the TypeScript directly;
 * the pure provider is used because Deno's node:crypto lacks P-521 ECDH).
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { encodeBase64, pureCrypto, seededRandom, SshEngine } from '../../core/index.ts';
import { ALL_CIPHERS, ALL_KEX_OPENSSH, ALL_MACS, makeHostKeys, run, openSshBinaries, startSshd } from '../tests/openssh.ts';

interface Case {
  readonly name: string;
  readonly kex: string;
  readonly hostKey: string;
  readonly cipher: string;
  readonly mac: string;
}

const cases: Case[] = [
  ...ALL_KEX_OPENSSH.map((kex) => ({ name: `kex-${kex}`, kex, hostKey: 'ssh-ed25519', cipher: 'aes128-ctr', mac: 'hmac-sha2-256' })),
  ...ALL_CIPHERS.map((cipher) => ({ name: `cipher-${cipher}`, kex: 'curve25519-sha256', hostKey: 'ecdsa-sha2-nistp256', cipher, mac: 'hmac-sha2-512-etm@openssh.com' })),
  ...ALL_MACS.map((mac) => ({ name: `mac-${mac}`, kex: 'ecdh-sha2-nistp256', hostKey: 'rsa-sha2-512', cipher: 'aes256-ctr', mac })),
];

async function record(port: number, c: Case) {
  const seed = `transcript:${c.name}`;
  const algorithms = { kex: [c.kex], hostKey: [c.hostKey], cipher: [c.cipher], mac: [c.mac] };
  const engine = new SshEngine({ role: 'client', now: 0, crypto: pureCrypto, random: seededRandom(seed), algorithms, username: 'transcript' });
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const fromServer: Uint8Array[] = [];
  const toServer: Uint8Array[] = [];
  const summary: Record<string, unknown> = {};
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      for (;;) {
        const t = engine.pollTransmit();
        if (t) {
          toServer.push(t.slice());
          socket.write(t);
        }
        const e = engine.pollEvent();
        if (e?.type === 'decision') engine.resolve(e.decision.id, true, 0);
        if (e?.type === 'kexComplete') summary['algorithms'] = e.algorithms;
        if (e?.type === 'authFailure') {
          summary['authMethods'] = e.methods;
          summary['serverSigAlgs'] = engine.serverSignatureAlgorithms;
          summary['serverVersion'] = engine.peerIdentification;
          socket.destroy();
          resolve();
          return;
        }
        if (e?.type === 'closed') return reject(new Error(`${c.name}: ${e.error?.message}`));
        if (!t && !e) return;
      }
    };
    socket.on('data', (d: Uint8Array) => {
      fromServer.push(new Uint8Array(d));
      engine.receive(new Uint8Array(d), 0);
      pump();
    });
    socket.on('error', reject);
    pump();
  });
  const join = (chunks: Uint8Array[]) => {
    const out = new Uint8Array(chunks.reduce((n, x) => n + x.length, 0));
    let o = 0;
    for (const x of chunks) (out.set(x, o), (o += x.length));
    return out;
  };
  return { ...c, seed, username: 'transcript', ...summary, serverToClient: encodeBase64(join(fromServer)), clientToServer: encodeBase64(join(toServer)) };
}

const version = (await run(openSshBinaries().ssh, ['-V'])).stderr.trim();
const keys = await makeHostKeys();
const sshd = await startSshd({ keys });
try {
  for (const c of cases) {
    const t = await record(sshd.port, c);
    writeFileSync(new URL(`../../fixtures/transcripts/${c.name}.json`, import.meta.url), JSON.stringify({ recordedWith: version, ...t }, null, 1) + '\n');
    console.log(`recorded ${c.name}`);
  }
} finally {
  await sshd.stop();
}
