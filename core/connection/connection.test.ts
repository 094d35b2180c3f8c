import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../crypto/pure.ts';
import { SshProtocolError, SshUsageError } from '../errors.ts';
import type { DecisionBody, SshEvent } from '../events.ts';
import { generatePrivateKey } from '../keys/private-key.ts';
import { seededRandom } from '../random.ts';
import { Pair, type PairOptions } from '../testing/pair.ts';
import { Msg } from '../wire/messages.ts';
import { SshWriter } from '../wire/writer.ts';
import { ConnectionLayer, OpenFailure, type ConnectionHost } from './connection.ts';
import { decodeTerminalModes, encodeTerminalModes } from './terminal-modes.ts';

const hostKeys = [generatePrivateKey('ed25519', seededRandom('conn host'), pureCrypto)];

function connected(options: Partial<PairOptions> = {}) {
  const pair = new Pair({
    ...options,
    client: { crypto: pureCrypto, username: 'u', ...options.client },
    server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true, ...options.server },
  });
  pair.pump();
  expect(pair.client.phase).toMatch(/connection$/);
  return pair;
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const dataOf = (events: SshEvent[], channel: number, dataType = 0) => {
  const chunks = events.flatMap((e) => (e.type === 'channelData' && e.channel === channel && e.dataType === dataType ? [e.data] : []));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) (out.set(c, o), (o += c.length));
  return out;
};

describe('channels between two engines', () => {
  it('a session: exec, stdout, stderr, exit-status, EOF, CLOSE; the id is reused afterwards', () => {
    const pair = connected();
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    expect(pair.clientEvents.some((e) => e.type === 'channelOpenConfirmed' && e.channel === ch)).toBe(true);
    pair.client.channelRequest(ch, { type: 'exec', command: 'echo hi' }, true, pair.now);
    pair.pump();
    const exec = pair.serverEvents.find((e) => e.type === 'decision' && e.decision.kind === 'channelRequest');
    expect(exec?.type === 'decision' && exec.decision.kind === 'channelRequest' && exec.decision.request).toEqual({ type: 'exec', command: 'echo hi' });
    const sch = exec?.type === 'decision' && exec.decision.kind === 'channelRequest' ? exec.decision.channel : -1;
    pair.server.write(sch, new TextEncoder().encode('hi\n'), pair.now);
    pair.server.write(sch, new TextEncoder().encode('oops\n'), pair.now, 1);
    pair.server.eof(sch, pair.now);
    pair.server.channelRequest(sch, { type: 'exit-status', status: 3 }, false, pair.now);
    pair.server.close(sch, pair.now);
    pair.pump();
    expect(new TextDecoder().decode(dataOf(pair.clientEvents, ch))).toBe('hi\n');
    expect(new TextDecoder().decode(dataOf(pair.clientEvents, ch, 1))).toBe('oops\n');
    const types = pair.clientEvents.filter((e) => 'channel' in e && e.channel === ch).map((e) => e.type);
    expect(types).toEqual(['channelOpenConfirmed', 'channelRequestReply', 'channelData', 'channelData', 'channelEof', 'channelRequest', 'channelClosed']);
    expect(pair.clientEvents.find((e) => e.type === 'channelRequest')).toMatchObject({ request: { type: 'exit-status', status: 3 } });
    expect(pair.serverEvents.some((e) => e.type === 'channelClosed')).toBe(true);
    expect(pair.client.openSession(pair.now)).toBe(ch);
  });

  it('a 1 KiB window and 1 KiB packets still deliver 300 KiB in order, never exceeding the window', () => {
    const pair = connected({ server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true, channelWindow: 1024, channelMaxPacket: 1024 } });
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    const payload = bytes(300 * 1024);
    pair.client.write(ch, payload, pair.now);
    expect(pair.client.channelInfo(ch).remoteWindow).toBe(0);
    pair.pump();
    const serverChannel = (pair.serverEvents.find((e) => e.type === 'channelData') as { channel: number }).channel;
    expect(dataOf(pair.serverEvents, serverChannel)).toEqual(payload);
    expect(pair.serverEvents.filter((e) => e.type === 'channelData').every((e) => e.type === 'channelData' && e.data.length <= 1024)).toBe(true);
    expect(pair.clientEvents.some((e) => e.type === 'channelDrain')).toBe(true);
  });

  it('a 2^32-1 byte window: data flows without any adjust', () => {
    const pair = connected({ client: { crypto: pureCrypto, username: 'u', channelWindow: 0xffffffff } });
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    const sch = (pair.serverEvents.find((e) => e.type === 'decision' && e.decision.kind === 'channelOpen') as { decision: { channel: number } }).decision.channel;
    expect(pair.server.channelInfo(sch).remoteWindow).toBe(0xffffffff);
    pair.server.write(sch, bytes(1 << 20), pair.now);
    pair.pump();
    expect(dataOf(pair.clientEvents, ch)).toEqual(bytes(1 << 20));
    expect(pair.server.channelInfo(sch).remoteWindow).toBe(0xffffffff - (1 << 20));
  });

  it('the window reopens only as the application consumes', () => {
    const pair = connected({ autoConsume: false, server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true, channelWindow: 4096 } });
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    pair.client.write(ch, bytes(10000), pair.now);
    pair.pump();
    const sch = (pair.serverEvents.find((e) => e.type === 'channelData') as { channel: number }).channel;
    expect(dataOf(pair.serverEvents, sch).length).toBe(4096);
    expect(pair.client.channelInfo(ch).bufferedAmount).toBe(10000 - 4096);
    pair.server.consumed(sch, 1000, pair.now);
    pair.pump();
    // The window was exhausted, so the first consumption already reopens it by that much.
    expect(dataOf(pair.serverEvents, sch).length).toBe(5096);
    pair.server.consumed(sch, 3096, pair.now);
    pair.pump();
    expect(dataOf(pair.serverEvents, sch).length).toBe(8192);
    expect(() => pair.server.consumed(sch, 5000, pair.now)).toThrow(SshUsageError);
  });

  it('want-reply requests are answered in request order even when decided out of order', () => {
    const pair = connected({ decide: (side, d) => (side === 'server' && d.kind === 'channelRequest' ? 'defer' : undefined) });
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    pair.client.channelRequest(ch, { type: 'env', name: 'A', value: '1' }, true, pair.now);
    pair.client.channelRequest(ch, { type: 'pty-req', term: 'xterm', cols: 80, rows: 24, widthPx: 0, heightPx: 0, modes: { ECHO: 1 } }, true, pair.now);
    pair.client.channelRequest(ch, { type: 'shell' }, true, pair.now);
    pair.pump();
    expect(pair.deferred).toHaveLength(3);
    const [a, b, c] = pair.deferred.map((d) => d.decision.id);
    pair.server.resolve(c!, true, pair.now);
    pair.pump();
    expect(pair.clientEvents.filter((e) => e.type === 'channelRequestReply')).toHaveLength(0);
    pair.server.resolve(b!, false, pair.now);
    pair.server.resolve(a!, true, pair.now);
    pair.pump();
    const replies = pair.clientEvents.flatMap((e) => (e.type === 'channelRequestReply' ? [[e.request, e.success]] : []));
    expect(replies).toEqual([['env', true], ['pty-req', false], ['shell', true]]);
  });

  it('tcpip-forward to port 0 returns the allocated port; unknown global requests fail', () => {
    const pair = connected({ decide: (side, d) => (side === 'server' && d.kind === 'globalRequest' && d.request.type === 'tcpip-forward' ? { success: true, port: 40123 } : undefined) });
    pair.client.globalRequest({ type: 'tcpip-forward', address: '127.0.0.1', port: 0 }, true, pair.now);
    pair.client.globalRequest({ type: 'other', name: 'nope@example.com', data: new Uint8Array(0) }, true, pair.now);
    pair.pump();
    const replies = pair.clientEvents.filter((e) => e.type === 'globalReply');
    expect(replies.map((e) => e.type === 'globalReply' && [e.name, e.success, e.port])).toEqual([['tcpip-forward', true, 40123], ['nope@example.com', false, undefined]]);
  });

  it('the server announces its host keys after login and proves them on request', () => {
    const pair = connected();
    const announced = pair.clientEvents.find((e) => e.type === 'hostKeysAnnounced');
    expect(announced?.type === 'hostKeysAnnounced' && announced.keys).toEqual([hostKeys[0]!.publicKey.blob]);
    pair.client.proveHostKeys([hostKeys[0]!.publicKey.blob], pair.now);
    pair.pump();
    const proved = pair.clientEvents.find((e) => e.type === 'hostKeysProved');
    expect(proved?.type === 'hostKeysProved' && proved.keys).toEqual([hostKeys[0]!.publicKey.blob]);
  });

  it('keepalive: unanswered probes end the connection, answered ones keep it', () => {
    const pair = connected({ client: { crypto: pureCrypto, username: 'u', keepaliveIntervalMs: 1000, keepaliveCountMax: 2 } });
    pair.advance(1000);
    pair.advance(1000);
    pair.advance(1000);
    expect(pair.client.isClosed).toBe(false);
    // Now the server goes silent: fire the client's timers without delivering anything.
    for (let i = 0; i < 4 && !pair.client.isClosed; i++) {
      pair.now += 1000;
      pair.client.handleTimeout(pair.now);
      pair.client.pollTransmit();
    }
    const closed: SshEvent[] = [];
    for (let e = pair.client.pollEvent(); e; e = pair.client.pollEvent()) closed.push(e);
    expect(closed.find((e) => e.type === 'closed')).toMatchObject({ error: { code: 'TIMEOUT' } });
  });

  it('keepalive starts at login even when the peer never sends another packet', () => {
    const pair = connected({ server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true, keepaliveIntervalMs: 1000, keepaliveCountMax: 1 } });
    expect(pair.server.pollTimeout()).toBe(pair.now + 1000);
  });

  it('session policy: no-pty and no-port-forwarding are enforced before the embedder is asked', () => {
    const key = generatePrivateKey('ed25519', seededRandom('policy user'), pureCrypto);
    const pair = connected({
      server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: false },
      serverChains: [['publickey']],
      clientKeys: [key],
      client: { crypto: pureCrypto, username: 'u', clientAuth: { publicKeys: [{ key: key.publicKey }] } },
      decide: (side, d) => (side === 'server' && d.kind === 'authPublicKey' ? { accept: true, policy: { pty: false, portForwarding: false } } : undefined),
    });
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    pair.client.channelRequest(ch, { type: 'pty-req', term: 'vt100', cols: 80, rows: 24, widthPx: 0, heightPx: 0, modes: {} }, true, pair.now);
    pair.client.openDirectTcpip('127.0.0.1', 22, '127.0.0.1', 5000, pair.now);
    pair.pump();
    expect(pair.clientEvents.find((e) => e.type === 'channelRequestReply')).toMatchObject({ success: false });
    expect(pair.clientEvents.find((e) => e.type === 'channelOpenFailed')).toMatchObject({ reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED });
    expect(pair.serverEvents.filter((e) => e.type === 'decision' && (e.decision.kind === 'channelRequest' || e.decision.kind === 'channelOpen') && e.decision.channel !== 0)).toHaveLength(0);
  });

  it('a channel limit refuses further opens with RESOURCE_SHORTAGE', () => {
    const pair = connected({ server: { crypto: pureCrypto, hostKeys, acceptNoneAuthentication: true, maxChannels: 2 } });
    for (let i = 0; i < 3; i++) pair.client.openSession(pair.now);
    pair.pump();
    expect(pair.clientEvents.filter((e) => e.type === 'channelOpenConfirmed')).toHaveLength(2);
    expect(pair.clientEvents.find((e) => e.type === 'channelOpenFailed')).toMatchObject({ reason: OpenFailure.RESOURCE_SHORTAGE });
  });

  it('writing after EOF is a usage error', () => {
    const pair = connected();
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    pair.client.eof(ch, pair.now);
    expect(() => pair.client.write(ch, bytes(3), pair.now)).toThrow(SshUsageError);
  });
});

describe('the connection layer refuses what a peer may not send', () => {
  function layer() {
    const sent: Uint8Array[] = [];
    const events: SshEvent[] = [];
    const asked: Array<{ body: DecisionBody; answer: (a: unknown) => void }> = [];
    const host: ConnectionHost = { send: (p) => sent.push(p), emit: (e) => events.push(e), ask: (body, answer) => asked.push({ body, answer }) };
    const conn = new ConnectionLayer(host, { role: 'server', window: 100, maxPacket: 50 });
    const open = new SshWriter().byte(Msg.CHANNEL_OPEN).string('session').uint32(7).uint32(1000).uint32(1000).finish();
    conn.handle(Msg.CHANNEL_OPEN, open);
    asked[0]!.answer(true);
    return { conn, sent, events };
  }
  const data = (n: number) => new SshWriter().byte(Msg.CHANNEL_DATA).uint32(0).string(new Uint8Array(n)).finish();

  it('data beyond the window or the maximum packet', () => {
    const { conn } = layer();
    expect(() => conn.handle(Msg.CHANNEL_DATA, data(51))).toThrow(/maximum packet/);
    const { conn: c2 } = layer();
    c2.handle(Msg.CHANNEL_DATA, data(50));
    c2.handle(Msg.CHANNEL_DATA, data(50));
    expect(() => c2.handle(Msg.CHANNEL_DATA, data(1))).toThrow(/exceed the window/);
  });

  it('data after EOF, anything after CLOSE, unknown channels, window overflow', () => {
    const { conn } = layer();
    conn.handle(Msg.CHANNEL_EOF, new SshWriter().byte(Msg.CHANNEL_EOF).uint32(0).finish());
    expect(() => conn.handle(Msg.CHANNEL_DATA, data(1))).toThrow(SshProtocolError);
    const { conn: c2 } = layer();
    expect(() => c2.handle(Msg.CHANNEL_DATA, new SshWriter().byte(Msg.CHANNEL_DATA).uint32(9).string('x').finish())).toThrow(/unknown channel/);
    const { conn: c3 } = layer();
    expect(() => c3.handle(Msg.CHANNEL_WINDOW_ADJUST, new SshWriter().byte(Msg.CHANNEL_WINDOW_ADJUST).uint32(0).uint32(0xffffffff).finish())).toThrow(/overflows/);
    const { conn: c4, sent } = layer();
    c4.handle(Msg.CHANNEL_CLOSE, new SshWriter().byte(Msg.CHANNEL_CLOSE).uint32(0).finish());
    expect(sent.at(-1)![0]).toBe(Msg.CHANNEL_CLOSE);
    expect(() => c4.handle(Msg.CHANNEL_EOF, new SshWriter().byte(Msg.CHANNEL_EOF).uint32(0).finish())).toThrow(/unknown channel/);
  });

  it('a window may grow to exactly 2^32-1 and not one byte more', () => {
    const { conn } = layer();
    const adjust = (n: number) => conn.handle(Msg.CHANNEL_WINDOW_ADJUST, new SshWriter().byte(Msg.CHANNEL_WINDOW_ADJUST).uint32(0).uint32(n).finish());
    adjust(0xffffffff - 1000);
    expect(conn.info(0).remoteWindow).toBe(0xffffffff);
    expect(() => adjust(1)).toThrow(/overflows/);
  });

  it('a reply to a request never made', () => {
    const { conn } = layer();
    expect(() => conn.handle(Msg.CHANNEL_SUCCESS, new SshWriter().byte(Msg.CHANNEL_SUCCESS).uint32(0).finish())).toThrow(/not made/);
    expect(() => conn.handle(Msg.REQUEST_SUCCESS, new Uint8Array([Msg.REQUEST_SUCCESS]))).toThrow(/not made/);
  });
});

describe('terminal modes (RFC 4254 section 8)', () => {
  it('round-trip and stop at undefined opcodes', () => {
    const modes = { ECHO: 1, ICANON: 0, VINTR: 3, TTY_OP_ISPEED: 38400, IUTF8: 1 };
    expect(decodeTerminalModes(encodeTerminalModes(modes))).toEqual(modes);
    expect(decodeTerminalModes(Uint8Array.from([53, 0, 0, 0, 1, 200, 1, 2]))).toEqual({ ECHO: 1 });
    expect(() => decodeTerminalModes(Uint8Array.from([53, 0, 0]))).toThrow(SshProtocolError);
  });
});

describe("the client's CLOSE before our exit report (RFC 4254 5.3, 6.10)", () => {
  /** A client that asked for `exec` and answers the server's EOF with CLOSE at once, as some clients do. */
  function execThenServerEof(wantReply = true) {
    const pair = connected();
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    pair.client.channelRequest(ch, { type: 'exec', command: 'exit 3' }, wantReply, pair.now);
    pair.client.eof(ch, pair.now);
    pair.pump();
    const sch = (pair.serverEvents.find((e) => (e.type === 'decision' && e.decision.kind === 'channelRequest') || e.type === 'channelRequest') as { channel?: number; decision?: { channel: number } });
    const serverChannel = sch.decision?.channel ?? sch.channel!;
    pair.server.write(serverChannel, new TextEncoder().encode('out\n'), pair.now);
    pair.server.eof(serverChannel, pair.now);
    pair.pump();
    expect(pair.clientEvents.some((e) => e.type === 'channelEof' && e.channel === ch)).toBe(true);
    pair.client.close(ch, pair.now);
    pair.pump();
    return { pair, ch, sch: serverChannel };
  }
  const channelTypes = (events: SshEvent[], ch: number) => events.filter((e) => 'channel' in e && e.channel === ch).map((e) => e.type);

  for (const wantReply of [true, false]) {
    it(`holds our CLOSE for exit-status and close() (exec with want-reply ${wantReply})`, () => {
      const { pair, ch, sch } = execThenServerEof(wantReply);
      expect(channelTypes(pair.serverEvents, sch)).toContain('channelPeerClosed');
      expect(channelTypes(pair.serverEvents, sch)).not.toContain('channelClosed');
      expect(channelTypes(pair.clientEvents, ch)).not.toContain('channelClosed');
      // The client reads nothing more: late output and EOF are dropped, not sent and not thrown.
      pair.server.write(sch, new TextEncoder().encode('late'), pair.now);
      pair.server.eof(sch, pair.now);
      pair.server.channelRequest(sch, { type: 'exit-status', status: 3 }, false, pair.now);
      pair.pump();
      expect(channelTypes(pair.clientEvents, ch).at(-1)).toBe('channelRequest');
      pair.server.close(sch, pair.now);
      pair.pump();
      const tail = channelTypes(pair.clientEvents, ch).slice(-2);
      expect(tail).toEqual(['channelRequest', 'channelClosed']);
      expect(pair.clientEvents.find((e) => e.type === 'channelRequest' && e.channel === ch)).toMatchObject({ request: { type: 'exit-status', status: 3 } });
      expect(new TextDecoder().decode(dataOf(pair.clientEvents, ch))).toBe('out\n');
      expect(channelTypes(pair.serverEvents, sch).at(-1)).toBe('channelClosed');
      // Nothing may follow our CLOSE.
      expect(() => pair.server.channelRequest(sch, { type: 'exit-status', status: 4 }, false, pair.now)).toThrow(SshUsageError);
      expect(pair.clientEvents.some((e) => e.type === 'closed') || pair.serverEvents.some((e) => e.type === 'closed')).toBe(false);
    });
  }

  it('exit-signal settles the debt too', () => {
    const { pair, ch, sch } = execThenServerEof();
    pair.server.channelRequest(sch, { type: 'exit-signal', signal: 'TERM', coreDumped: false, message: '', language: '' }, false, pair.now);
    pair.server.close(sch, pair.now);
    pair.pump();
    expect(channelTypes(pair.clientEvents, ch).slice(-2)).toEqual(['channelRequest', 'channelClosed']);
  });

  it('close() gives up on the report and answers the CLOSE at once', () => {
    const { pair, ch, sch } = execThenServerEof();
    pair.server.close(sch, pair.now);
    pair.pump();
    expect(channelTypes(pair.clientEvents, ch).at(-1)).toBe('channelClosed');
    expect(channelTypes(pair.serverEvents, sch).at(-1)).toBe('channelClosed');
    expect(pair.clientEvents.some((e) => e.type === 'channelRequest' && e.channel === ch)).toBe(false);
  });

  it('nothing owed (no command started, a refused exec, or the report already sent): the CLOSE is answered at once', () => {
    for (const setup of ['none', 'refused', 'reported'] as const) {
      const pair = connected({ decide: (side, d) => (setup === 'refused' && side === 'server' && d.kind === 'channelRequest' ? false : undefined) });
      const ch = pair.client.openSession(pair.now);
      pair.pump();
      const sch = (pair.serverEvents.find((e) => e.type === 'decision' && e.decision.kind === 'channelOpen') as { decision: { channel: number } }).decision.channel;
      if (setup !== 'none') pair.client.channelRequest(ch, { type: 'exec', command: 'x' }, true, pair.now);
      pair.pump();
      if (setup === 'reported') pair.server.channelRequest(sch, { type: 'exit-status', status: 0 }, false, pair.now);
      pair.client.close(ch, pair.now);
      pair.pump();
      expect(channelTypes(pair.serverEvents, sch), setup).not.toContain('channelPeerClosed');
      expect(channelTypes(pair.serverEvents, sch).at(-1), setup).toBe('channelClosed');
      expect(channelTypes(pair.clientEvents, ch).at(-1), setup).toBe('channelClosed');
    }
  });

  it('a client channel never holds the CLOSE: the server closing first is answered at once', () => {
    const pair = connected();
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    pair.client.channelRequest(ch, { type: 'exec', command: 'x' }, true, pair.now);
    pair.pump();
    const sch = (pair.serverEvents.find((e) => e.type === 'decision' && e.decision.kind === 'channelRequest') as { decision: { channel: number } }).decision.channel;
    pair.server.close(sch, pair.now);
    pair.pump();
    expect(channelTypes(pair.clientEvents, ch).at(-1)).toBe('channelClosed');
    expect(channelTypes(pair.serverEvents, sch).at(-1)).toBe('channelClosed');
  });
});

describe('open failure reasons (RFC 4254 5.1)', () => {
  it('a type nobody knows is refused with UNKNOWN_CHANNEL_TYPE, a known one refused by policy with ADMINISTRATIVELY_PROHIBITED', () => {
    const pair = connected({ decide: (side, d) => (side === 'server' && d.kind === 'channelOpen' ? false : undefined) });
    pair.client.openChannel({ type: 'other', name: 'foo@example.com', data: new Uint8Array(0) }, pair.now);
    pair.pump();
    pair.client.openChannel({ type: 'x11', originatorAddress: '127.0.0.1', originatorPort: 6010 }, pair.now);
    pair.pump();
    const failures = pair.clientEvents.filter((e) => e.type === 'channelOpenFailed');
    expect(failures).toMatchObject([
      { reason: OpenFailure.UNKNOWN_CHANNEL_TYPE, description: 'unknown channel type foo@example.com' },
      { reason: OpenFailure.ADMINISTRATIVELY_PROHIBITED },
    ]);
  });
});

describe('closing a channel the peer already closed', () => {
  it('is a no-op until the id is reused; an id never opened is still a usage error', () => {
    const pair = connected();
    const ch = pair.client.openSession(pair.now);
    pair.pump();
    const sch = (pair.serverEvents.find((e) => e.type === 'decision' && e.decision.kind === 'channelOpen') as { decision: { channel: number } }).decision.channel;
    pair.server.close(sch, pair.now);
    pair.pump();
    expect(pair.clientEvents.some((e) => e.type === 'channelClosed' && e.channel === ch)).toBe(true);
    pair.client.close(ch, pair.now);
    pair.client.close(ch, pair.now);
    pair.pump();
    expect(pair.clientEvents.some((e) => e.type === 'closed')).toBe(false);
    expect(() => pair.client.close(ch + 7, pair.now)).toThrow(SshUsageError);
  });
});
