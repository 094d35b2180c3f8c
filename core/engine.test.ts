import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from './crypto/pure.ts';
import type { CryptoProvider } from './crypto/provider.ts';
import { SshEngine, cipherRekeyLimit } from './engine.ts';
import { DisconnectReason, SshPeerDisconnectError, SshProtocolError, SshUsageError } from './errors.ts';
import type { SshEvent } from './events.ts';
import { curve25519Sha256 } from './kex/curve25519.ts';
import { generatePrivateKey, parseOpenSshPrivateKey } from './keys/private-key.ts';
import { signCertificate, verifyCertificate } from './keys/certificate.ts';
import { seededRandom } from './random.ts';
import { Pair } from './testing/pair.ts';
import { handshakeScenario, rekeyScenario, sessionScenario } from './testing/scenarios.ts';
import { supportedCipher, supportedHostKey, supportedKex, supportedMac } from './transport/algorithms.ts';
import { encodeKexInit, type KexInit } from './transport/kexinit.ts';
import { PacketDecoder, PacketEncoder } from './transport/packet.ts';
import { createNoneOpener, createNoneSealer } from './cipher/index.ts';
import { SshReader } from './wire/reader.ts';
import { SshWriter } from './wire/writer.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/keys/${name}`, import.meta.url), 'utf8');
const hostKeys = [
  generatePrivateKey('ed25519', seededRandom('engine ed25519'), pureCrypto),
  generatePrivateKey('ecdsa-256', seededRandom('engine p256'), pureCrypto),
  generatePrivateKey('ecdsa-384', seededRandom('engine p384'), pureCrypto),
  generatePrivateKey('ecdsa-521', seededRandom('engine p521'), pureCrypto),
  ...parseOpenSshPrivateKey(fixture('rsa-2048')),
];
const plainHostKeyAlgorithms = supportedHostKey.filter((a) => !a.includes('-cert-'));
const base = { kex: 'curve25519-sha256', hostKey: 'ssh-ed25519', cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com' };

function closedError(events: SshEvent[]) {
  const closed = events.filter((e) => e.type === 'closed');
  expect(closed).toHaveLength(1);
  return closed[0]!.type === 'closed' ? closed[0]!.error : null;
}

describe('pair handshakes with the pure provider, one axis at a time', () => {
  for (const kex of supportedKex) it(`kex ${kex}`, () => void handshakeScenario({ ...base, kex }, hostKeys, pureCrypto, kex));
  for (const hostKey of plainHostKeyAlgorithms) it(`host key ${hostKey}`, () => void handshakeScenario({ ...base, hostKey }, hostKeys, pureCrypto, hostKey));
  for (const cipher of supportedCipher) it(`cipher ${cipher}`, () => void handshakeScenario({ ...base, cipher }, hostKeys, pureCrypto, cipher));
  for (const mac of supportedMac) it(`mac ${mac}`, () => void handshakeScenario({ ...base, mac }, hostKeys, pureCrypto, mac));
});

describe('a session channel', () => {
  it('delivers output, stderr, exit-status and the close handshake through a 1 KiB window', () => {
    sessionScenario(hostKeys, pureCrypto);
  });
});

describe('host certificates', () => {
  const ca = generatePrivateKey('ed25519', seededRandom('host ca'), pureCrypto);
  for (const [i, alg] of ['ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com'].entries()) {
    it(`the server presents ${alg}; the client's decision carries the certificate`, () => {
      const key = hostKeys[[0, 1, 4, 4][i]!]!;
      const cert = signCertificate(pureCrypto, ca, { publicKey: key.publicKey, certType: 'host', keyId: 'test host', principals: ['host.example'] });
      const pair = new Pair({
        client: { crypto: pureCrypto, algorithms: { hostKey: [alg] }, clientAuth: { methods: [] } },
        server: { crypto: pureCrypto, hostKeys, hostCertificates: [cert.blob] },
      });
      pair.pump();
      const decision = pair.clientEvents.find((e) => e.type === 'decision');
      expect(decision?.type === 'decision' && decision.decision.kind === 'hostKey' && decision.decision.certificate?.keyId).toBe('test host');
      expect(pair.client.algorithms?.hostKey).toBe(alg);
      const d = decision?.type === 'decision' && decision.decision.kind === 'hostKey' ? decision.decision : null;
      expect(verifyCertificate(pureCrypto, d!.certificate!, { now: 1_700_000_000n, type: 'host', principal: 'host.example', trustedCaKeys: [ca.publicKey] })).toEqual({ ok: true });
    });
  }

  it('a user certificate cannot serve as a host certificate', () => {
    const cert = signCertificate(pureCrypto, ca, { publicKey: hostKeys[0]!.publicKey, certType: 'user', keyId: 'u', principals: ['x'] });
    expect(() => new SshEngine({ role: 'server', now: 0, hostKeys, hostCertificates: [cert.blob] })).toThrow(/user certificate/);
  });
});

describe('re-keying', () => {
  it('re-keys 100 times from alternating sides with IGNORE traffic and held requests in between', () => {
    const pair = rekeyScenario(hostKeys, pureCrypto, 100);
    expect(pair.client.statistics.keyExchanges).toBe(101);
  });

  it('re-keys automatically by bytes, packets and time', () => {
    const pair = new Pair({
      client: { crypto: pureCrypto, random: seededRandom('auto c'), rekeyPackets: 10, rekeyIntervalMs: 60_000 },
      server: { crypto: pureCrypto, random: seededRandom('auto s'), hostKeys, acceptNoneAuthentication: true, rekeyBytes: 4096 },
    });
    pair.pump();
    for (let i = 0; i < 9; i++) pair.client.globalRequest({ type: 'other', name: 'x@test', data: new Uint8Array(0) }, true, pair.now);
    pair.pump();
    expect(pair.client.statistics.keyExchanges).toBe(2); // 10 packets since the last kex
    pair.client.globalRequest({ type: 'other', name: 'big@test', data: new Uint8Array(8000) }, false, pair.now);
    pair.pump();
    expect(pair.server.statistics.keyExchanges).toBe(3); // 4 KiB received by the server
    expect(pair.client.pollTimeout()).toBe(pair.now + 60_000);
    pair.advance(60_000);
    expect(pair.client.statistics.keyExchanges).toBe(4); // one hour... here one minute
    expect(pair.clientEvents.filter((e) => e.type === 'closed')).toHaveLength(0);
  });

  it('a side that only sends re-keys by volume too', () => {
    const pair = new Pair({
      client: { crypto: pureCrypto, random: seededRandom('send c'), rekeyBytes: 64 * 1024 },
      server: { crypto: pureCrypto, random: seededRandom('send s'), hostKeys, acceptNoneAuthentication: true },
    });
    pair.pump();
    const before = pair.client.statistics.keyExchanges;
    // Send 200 KiB without letting the server answer: the client must start a re-key on its own.
    for (let i = 0; i < 50; i++) pair.client.globalRequest({ type: 'other', name: 'bulk@test', data: new Uint8Array(4096) }, false, pair.now);
    expect(pair.client.phase).toMatch(/^established\.awaitingKexinit/);
    pair.pump();
    expect(pair.client.statistics.keyExchanges).toBeGreaterThan(before);
  });

  it('caps the byte limit at what the cipher allows (RFC 4344 3.2)', () => {
    expect(cipherRekeyLimit('aes128-ctr')).toBe(2 ** 32 * 16);
    expect(cipherRekeyLimit('chacha20-poly1305@openssh.com')).toBe(2 ** 30);
  });

  it('refuses a re-key command while one is running', () => {
    const pair = rekeyScenario(hostKeys, pureCrypto, 1);
    pair.client.rekey(pair.now);
    expect(() => pair.client.rekey(pair.now)).toThrow(SshUsageError);
  });
});

describe('failures end in one closed event and the right DISCONNECT', () => {
  it('a rejected host key: HOST_KEY_NOT_VERIFIABLE', () => {
    const pair = new Pair({ client: { crypto: pureCrypto }, server: { crypto: pureCrypto, hostKeys }, trustHostKey: false });
    pair.pump();
    expect(closedError(pair.clientEvents)?.code).toBe('HOST_KEY_REJECTED');
    const serverSide = closedError(pair.serverEvents);
    expect(serverSide).toBeInstanceOf(SshPeerDisconnectError);
    expect((serverSide as SshPeerDisconnectError).reason).toBe(DisconnectReason.HOST_KEY_NOT_VERIFIABLE);
  });

  it('a bad signature over the exchange hash: KEY_EXCHANGE_FAILED', () => {
    const lying: CryptoProvider = { ...pureCrypto, ed25519Sign: (seed, msg) => { const s = pureCrypto.ed25519Sign(seed, msg); s[0]! ^= 1; return s; } };
    const pair = new Pair({ client: { crypto: pureCrypto, algorithms: { hostKey: ['ssh-ed25519'] } }, server: { crypto: lying, hostKeys } });
    pair.pump();
    expect(closedError(pair.clientEvents)?.code).toBe('SIGNATURE_INVALID');
    expect((closedError(pair.serverEvents) as SshPeerDisconnectError).reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
  });

  it('no common cipher: both offers named', () => {
    const pair = new Pair({ client: { crypto: pureCrypto, algorithms: { cipher: ['aes128-ctr'] } }, server: { crypto: pureCrypto, hostKeys, algorithms: { cipher: ['chacha20-poly1305@openssh.com'] } } });
    pair.pump();
    const err = closedError(pair.clientEvents);
    expect(err?.code).toBe('NO_COMMON_ALGORITHM');
    expect(err?.message).toContain('client offers: aes128-ctr; server offers: chacha20-poly1305@openssh.com');
  });

  it('a peer that goes silent past the login grace time is cut off', () => {
    const server = new SshEngine({ role: 'server', now: 0, crypto: pureCrypto, hostKeys, loginGraceMs: 1000 });
    expect(server.pollTimeout()).toBe(1000);
    server.handleTimeout(999);
    expect(server.isClosed).toBe(false);
    server.handleTimeout(1000);
    const events: SshEvent[] = [];
    for (let e = server.pollEvent(); e; e = server.pollEvent()) events.push(e);
    expect(closedError(events)?.code).toBe('TIMEOUT');
  });

  it('commands after close are usage errors; inputs are no-ops', () => {
    const pair = new Pair({ client: { crypto: pureCrypto }, server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true } });
    pair.pump();
    pair.client.disconnect(DisconnectReason.BY_APPLICATION, 'bye', pair.now);
    pair.pump();
    expect(closedError(pair.clientEvents)).toBeNull();
    expect((closedError(pair.serverEvents) as SshPeerDisconnectError).description).toBe('bye');
    expect(() => pair.client.rekey(pair.now)).toThrow(SshUsageError);
    pair.server.receive(new Uint8Array(100), pair.now);
    expect(pair.server.pollEvent()).toBeNull();
    expect(() => pair.client.resolve(42, true, pair.now)).not.toThrow(); // closed: no-op
  });

  it('accepts a 256 KiB packet and refuses a bigger one', () => {
    const pair = new Pair({ client: { crypto: pureCrypto }, server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true } });
    pair.pump();
    pair.client.sendIgnore(new Uint8Array(256 * 1024 - 64), pair.now);
    pair.pump();
    expect(pair.serverEvents.filter((e) => e.type === 'closed')).toHaveLength(0);
    pair.client.sendIgnore(new Uint8Array(256 * 1024), pair.now);
    pair.pump();
    expect((closedError(pair.serverEvents) as SshProtocolError).code).toBe('PACKET_INVALID');
  });

  it('input buffered behind a pending decision is bounded', () => {
    const pair = new Pair({ client: { crypto: pureCrypto }, server: { crypto: pureCrypto, hostKeys }, decide: (side, d) => (side === 'client' && d.kind === 'hostKey' ? 'defer' : undefined) });
    pair.pump();
    expect(pair.deferred).toHaveLength(1);
    for (let i = 0; i < 9 && !pair.client.isClosed; i++) pair.client.receive(new Uint8Array(1024 * 1024), pair.now);
    const events: SshEvent[] = [];
    for (let e = pair.client.pollEvent(); e; e = pair.client.pollEvent()) events.push(e);
    expect((closedError(events) as SshProtocolError).code).toBe('LIMIT_EXCEEDED');
  });

  it('a server without host keys is a usage error that says how to fix it', () => {
    expect(() => new SshEngine({ role: 'server', now: 0 })).toThrow(/at least one host key/);
  });
});

/** A hand-driven client: raw packets in the clear, to say exactly what a misbehaving peer sends. */
class RawClient {
  readonly server: SshEngine;
  private readonly encoder = new PacketEncoder(createNoneSealer(), seededRandom('raw pad'));
  private readonly decoder = new PacketDecoder(createNoneOpener());
  readonly events: SshEvent[] = [];
  private versionSeen = false;

  constructor(serverOptions: Partial<ConstructorParameters<typeof SshEngine>[0]> = {}) {
    this.server = new SshEngine({ role: 'server', now: 0, crypto: pureCrypto, random: seededRandom('raw server'), hostKeys, ...serverOptions });
    this.server.receive(new TextEncoder().encode('SSH-2.0-raw_1.0\r\n'), 0);
  }

  send(...payloads: Uint8Array[]): void {
    for (const p of payloads) this.server.receive(this.encoder.encode(p), 0);
    for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) this.events.push(e);
  }

  /** Payloads the server sent since the last call (it never switches keys in these tests). */
  received(): Uint8Array[] {
    for (let t = this.server.pollTransmit(); t; t = this.server.pollTransmit()) this.decoder.push(t);
    if (!this.versionSeen) {
      const raw = this.decoder.peekRaw();
      const lf = raw.indexOf(10);
      this.decoder.consumeRaw(lf + 1);
      this.versionSeen = true;
    }
    const out: Uint8Array[] = [];
    for (let p = this.decoder.next(); p; p = this.decoder.next()) out.push(p);
    return out;
  }
}

function clientKexInit(over: Partial<KexInit> = {}): Uint8Array {
  return encodeKexInit({
    cookie: new Uint8Array(16),
    kex: ['curve25519-sha256', 'kex-strict-c-v00@openssh.com'],
    hostKey: ['ssh-ed25519'],
    cipherC2S: ['aes128-ctr'], cipherS2C: ['aes128-ctr'],
    macC2S: ['hmac-sha2-256'], macS2C: ['hmac-sha2-256'],
    compressionC2S: ['none'], compressionS2C: ['none'],
    languagesC2S: [], languagesS2C: [],
    firstKexPacketFollows: false,
    ...over,
  });
}

function kexdhInit(): Uint8Array {
  const state = curve25519Sha256.clientStart({ crypto: pureCrypto, random: seededRandom('raw kex') });
  return new SshWriter().byte(30).string(state.clientValue).finish();
}

describe('strict kex and the guessed first kex packet', () => {
  it('strict: an IGNORE before KEXINIT is fatal (KEXINIT must be the first packet)', () => {
    const raw = new RawClient();
    raw.send(new SshWriter().byte(2).string('x').finish(), clientKexInit());
    const err = closedError(raw.events);
    expect(err).toBeInstanceOf(SshProtocolError);
    expect(err?.message).toMatch(/KEXINIT was not the first packet/);
  });

  it('strict: an IGNORE inside the initial exchange is fatal; without strict kex it is fine', () => {
    const strict = new RawClient();
    strict.send(clientKexInit(), new SshWriter().byte(2).string('x').finish());
    expect((closedError(strict.events) as SshProtocolError).reason).toBe(DisconnectReason.PROTOCOL_ERROR);

    const lax = new RawClient();
    lax.send(clientKexInit({ kex: ['curve25519-sha256'] }), new SshWriter().byte(2).string('x').finish(), kexdhInit());
    expect(lax.events.filter((e) => e.type === 'closed')).toHaveLength(0);
    expect(lax.received().map((p) => p[0])).toEqual([20, 31, 21]);
  });

  it('an unknown message number gets UNIMPLEMENTED outside strict kex', () => {
    const lax = new RawClient();
    lax.send(clientKexInit({ kex: ['curve25519-sha256'] }), new Uint8Array([200, 1, 2]));
    const replies = lax.received();
    expect(replies.map((p) => p[0])).toEqual([20, 3]);
    expect(new SshReader(replies[1]!).raw(1) && new SshReader(replies[1]!.subarray(1)).uint32()).toBe(1);
  });

  it('a wrong guess is skipped, a right guess is used', () => {
    const wrong = new RawClient({ algorithms: { kex: ['ecdh-sha2-nistp256', 'curve25519-sha256'] } });
    wrong.send(clientKexInit({ firstKexPacketFollows: true }), new SshWriter().byte(30).string(new Uint8Array(65)).finish(), kexdhInit());
    expect(wrong.events.filter((e) => e.type === 'closed')).toHaveLength(0);
    expect(wrong.received().map((p) => p[0])).toEqual([20, 31, 21]);

    const right = new RawClient({ algorithms: { kex: ['curve25519-sha256'] } });
    right.send(clientKexInit({ firstKexPacketFollows: true }), kexdhInit());
    expect(right.received().map((p) => p[0])).toEqual([20, 31, 21]);
  });

  it('a CHANNEL_OPEN or USERAUTH_SUCCESS from a client during the handshake is a protocol error', () => {
    for (const msg of [new SshWriter().byte(90).string('session').uint32(0).uint32(1000).uint32(1000).finish(), new Uint8Array([52])]) {
      const raw = new RawClient();
      raw.send(clientKexInit({ kex: ['curve25519-sha256'] }), msg);
      expect((closedError(raw.events) as SshProtocolError).code).toBe('UNEXPECTED_MESSAGE');
    }
  });
});

describe('SSH_MSG_DEBUG (RFC 4253 11.3)', () => {
  for (const receiver of ['server', 'client'] as const) {
    it(`a ${receiver} accepts a 13,000-byte and a packet-filling DEBUG and shows a bounded, sanitised prefix`, () => {
      const pair = new Pair({ client: { crypto: pureCrypto, username: 'u' }, server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true } });
      pair.pump();
      const from = receiver === 'client' ? pair.server : pair.client;
      const events = receiver === 'client' ? pair.clientEvents : pair.serverEvents;
      for (const size of [13_000, 250_000]) {
        const text = new Uint8Array(size).fill(0x41);
        text[0] = 0x07; // a control character must not reach a terminal
        (from as unknown as { sendPacket(p: Uint8Array): void }).sendPacket(new SshWriter().byte(4).boolean(true).string(text).string('en').finish());
        pair.pump();
      }
      expect(events.filter((e) => e.type === 'closed')).toEqual([]);
      const shown = events.filter((e) => e.type === 'debug');
      expect(shown).toHaveLength(2);
      for (const [i, e] of shown.entries()) {
        if (e.type !== 'debug') continue;
        expect(e.alwaysDisplay).toBe(true);
        expect(e.message.startsWith('?AAA')).toBe(true);
        expect(e.message.length).toBeLessThan(1100);
        expect(e.message.endsWith(`(${[13_000, 250_000][i]} bytes)`)).toBe(true);
      }
    });
  }
});
