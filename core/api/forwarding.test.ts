/**
 * Forwarding on the in-memory runtime: local (-L), remote (-R, port 0, streamlocal), dynamic (-D,
 * SOCKS5 and 4a) and agent forwarding, against the scripted server.
 */
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, MemoryRuntime } from '../testing/memory-runtime.ts';
import { SCRIPTED_ALGORITHMS, scriptedUserKey, startServer } from '../testing/scripted-server.ts';
import { connect, type ClientOptions } from './client.ts';
import type { ByteStream } from './runtime.ts';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup(extra: Partial<ClientOptions> = {}) {
  const network = new MemoryNetwork();
  const client = new MemoryRuntime({ network });
  const server = new MemoryRuntime({ network });
  const log = startServer(server);
  const options: ClientOptions = { host: 'server', username: 'alice', privateKeys: [scriptedUserKey], hostKey: () => true, algorithms: SCRIPTED_ALGORITHMS, ...extra };
  return { client, server, log, options };
}

/** A test peer on a stream: what arrived so far, and whether it ended. */
function peer(stream: ByteStream) {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let closed = false;
  stream.start({
    data: (b) => void chunks.push(b.slice()),
    end: () => void (ended = true),
    close: () => void (closed = true),
    drain: () => {},
  });
  const all = (): Uint8Array => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) (out.set(c, at), (at += c.length));
    return out;
  };
  return {
    stream,
    all,
    get ended() {
      return ended || closed;
    },
    /** Wait until at least `n` bytes arrived (or the stream ended). */
    async atLeast(n: number, runtime: MemoryRuntime): Promise<Uint8Array> {
      for (let i = 0; i < 200 && all().length < n && !ended && !closed; i++) await runtime.advance(1);
      return all();
    },
  };
}

/** A local TCP service on the client's side that greets, then echoes in upper case. */
async function upperService(runtime: MemoryRuntime, host: string, port: number): Promise<void> {
  await runtime.listenTcp(host, port, (s) => {
    s.start({
      data: (b) => void s.write(bytes(text(b).toUpperCase())),
      end: () => s.end(),
      close: () => {},
      drain: () => {},
    });
    s.write(bytes('hi:'));
  });
}

describe('forwarding on the in-memory runtime', () => {
  it('forwardLocal: port 0 is chosen and reported; each connection is a direct-tcpip channel', async () => {
    const { client, options } = setup();
    const conn = await connect(client, options);
    const forward = await conn.forwardLocal({ bindPort: 0, host: 'echo', port: 7 });
    const address = forward.address as { host: string; port: number };
    expect(address.host).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    const a = peer(await client.connectTcp('127.0.0.1', address.port));
    const b = peer(await client.connectTcp('127.0.0.1', address.port));
    a.stream.write(bytes('first'));
    b.stream.write(bytes('second'));
    expect(text(await a.atLeast(5, client))).toBe('first');
    expect(text(await b.atLeast(6, client))).toBe('second');
    // A target the server cannot reach: the local connection is closed.
    const refused = await conn.forwardLocal({ bindPort: 0, host: 'elsewhere', port: 80 });
    const c = peer(await client.connectTcp('127.0.0.1', (refused.address as { port: number }).port));
    await c.atLeast(1, client);
    expect(c.ended).toBe(true);
    await forward.close();
    await forward.close();
    await expect(client.connectTcp('127.0.0.1', address.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await conn.close();
  });

  it('forwardRemote: port 0 comes back from the server; only forwards we asked for are accepted; close cancels', async () => {
    const { client, options, log } = setup();
    await upperService(client, 'localhost', 8080);
    const conn = await connect(client, options);
    const forward = await conn.forwardRemote({ bindPort: 0, host: 'localhost', port: 8080 });
    expect(forward.address).toEqual({ host: 'localhost', port: 6000 });
    const server = log.live[0]!;
    const incoming = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 6000, originatorAddress: '203.0.113.9', originatorPort: 4000 });
    expect(await incoming.opened).toBe(true);
    incoming.write('abc');
    await client.advance(5);
    expect(incoming.received()).toBe('hi:ABC');
    const stray = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 7777, originatorAddress: '203.0.113.9', originatorPort: 4001 });
    expect(await stray.opened).toBe(false);
    await forward.close();
    expect(log.globals).toEqual(['tcpip-forward', 'cancel-tcpip-forward']);
    const late = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 6000, originatorAddress: '203.0.113.9', originatorPort: 4002 });
    expect(await late.opened).toBe(false);
    await conn.close();
  });

  it('forwardRemote: accept decides per connection; onConnection takes the channel; a dead target refuses', async () => {
    const { client, options, log } = setup();
    const conn = await connect(client, options);
    const origins: string[] = [];
    await conn.forwardRemote({
      bindPort: 9000,
      accept: (o) => (origins.push(`${o.address}:${o.port}`), o.address !== '198.51.100.1'),
      onConnection: (channel) => void channel.writer.write('served in-process'),
    });
    await conn.forwardRemote({ bindPort: 9001, host: 'localhost', port: 1 });
    const server = log.live[0]!;
    const ok = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 9000, originatorAddress: '192.0.2.1', originatorPort: 1 });
    const no = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 9000, originatorAddress: '198.51.100.1', originatorPort: 2 });
    const dead = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 9001, originatorAddress: '192.0.2.1', originatorPort: 3 });
    expect([await ok.opened, await no.opened, await dead.opened]).toEqual([true, false, false]);
    await client.advance(2);
    expect(ok.received()).toBe('served in-process');
    expect(origins).toEqual(['192.0.2.1:1', '198.51.100.1:2']);
    await expect(conn.forwardRemote({ bindPort: 1 })).rejects.toThrow(/needs a local target.*socks: true/);
    await conn.close();
  });

  it('forwardRemote with socks: each forwarded connection speaks SOCKS and is connected from our side; a target we cannot reach gets SOCKS failure 5', async () => {
    const { client, options, log } = setup();
    await upperService(client, 'intranet', 80);
    const conn = await connect(client, options);
    const forward = await conn.forwardRemote({ bindPort: 1080, socks: true });
    expect(forward.address).toEqual({ host: 'localhost', port: 1080 });
    const server = log.live[0]!;
    const codes = (t: string): number[] => [...t].map((c) => c.charCodeAt(0));
    const ch = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 1080, originatorAddress: '192.0.2.7', originatorPort: 5 });
    expect(await ch.opened).toBe(true);
    ch.write(new Uint8Array([5, 1, 0]));
    await client.advance(2);
    expect(codes(ch.received())).toEqual([5, 0]);
    ch.write(new Uint8Array([5, 1, 0, 3, 8, ...bytes('intranet'), 0, 80, ...bytes('early')]));
    await client.advance(5);
    const got = ch.received();
    expect(codes(got.slice(2, 4))).toEqual([5, 0]);
    expect(got.slice(12)).toBe('hi:EARLY');
    const dead = server.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 1080, originatorAddress: '192.0.2.7', originatorPort: 6 });
    expect(await dead.opened).toBe(true);
    dead.write(new Uint8Array([5, 1, 0, 5, 1, 0, 3, 7, ...bytes('nowhere'), 0, 81]));
    await dead.ended;
    expect(codes(dead.received().slice(2, 4))).toEqual([5, 5]);
    await expect(conn.forwardRemote({ bindPath: '/run/x.sock', socks: true })).rejects.toThrow(/socks needs a TCP listener/);
    await conn.close();
  });

  it('ssh_config RemoteForward with a port alone is a SOCKS forward on the server', async () => {
    const { client, options, log } = setup();
    const conn = await connect(client, { ...options, config: { text: 'Host server\n  RemoteForward 1081\n' } });
    expect(conn.forwards.map((f) => f.address)).toEqual([{ host: 'localhost', port: 1081 }]);
    expect(log.globals).toEqual(['tcpip-forward']);
    const ch = log.live[0]!.openToClient({ type: 'forwarded-tcpip', address: 'localhost', port: 1081, originatorAddress: '192.0.2.7', originatorPort: 5 });
    expect(await ch.opened).toBe(true);
    ch.write(new Uint8Array([4, 1, 0, 80, 0, 0, 0, 1, 0, ...bytes('nowhere'), 0]));
    await ch.ended;
    expect([...ch.received()].map((c) => c.charCodeAt(0)).slice(0, 2)).toEqual([0, 0x5b]);
    await conn.close();
  });

  it('forwardRemote over a Unix socket (streamlocal-forward) to a local Unix socket', async () => {
    const { client, options, log } = setup();
    await client.listenUnix('/run/local.sock', (s) => {
      s.start({ data: () => {}, end: () => s.end(), close: () => {}, drain: () => {} });
      s.write(bytes('unix says hi'));
    });
    const conn = await connect(client, options);
    const forward = await conn.forwardRemote({ bindPath: '/run/remote.sock', localPath: '/run/local.sock' });
    expect(forward.address).toEqual({ path: '/run/remote.sock' });
    const ch = log.live[0]!.openToClient({ type: 'forwarded-streamlocal@openssh.com', socketPath: '/run/remote.sock' });
    expect(await ch.opened).toBe(true);
    await client.advance(2);
    expect(ch.received()).toBe('unix says hi');
    await forward.close();
    expect(log.globals).toEqual(['streamlocal-forward@openssh.com', 'cancel-streamlocal-forward@openssh.com']);
    await conn.close();
  });

  it('forwardDynamic: SOCKS5 with a domain name and SOCKS4a, bytes after the request are kept', async () => {
    const { client, options } = setup();
    const conn = await connect(client, options);
    const socks = await conn.forwardDynamic({ bindPort: 0 });
    const port = (socks.address as { port: number }).port;
    const five = peer(await client.connectTcp('127.0.0.1', port));
    five.stream.write(new Uint8Array([5, 1, 0]));
    expect([...(await five.atLeast(2, client))]).toEqual([5, 0]);
    five.stream.write(new Uint8Array([5, 1, 0, 3, 4, ...bytes('echo'), 0, 7, ...bytes('early')]));
    const reply = await five.atLeast(2 + 10 + 5, client);
    expect([...reply.subarray(2, 4)]).toEqual([5, 0]);
    expect(text(reply.subarray(12))).toBe('early');
    five.stream.write(bytes('!'));
    expect(text((await five.atLeast(18, client)).subarray(12))).toBe('early!');
    const four = peer(await client.connectTcp('127.0.0.1', port));
    four.stream.write(new Uint8Array([4, 1, 0, 7, 0, 0, 0, 1, ...bytes('me'), 0, ...bytes('echo'), 0]));
    expect([...(await four.atLeast(8, client)).subarray(0, 2)]).toEqual([0, 0x5a]);
    // A target the server refuses: SOCKS5 "connection refused" (5).
    const bad = peer(await client.connectTcp('127.0.0.1', port));
    bad.stream.write(new Uint8Array([5, 1, 0]));
    await bad.atLeast(2, client);
    bad.stream.write(new Uint8Array([5, 1, 0, 1, 10, 0, 0, 1, 0, 80]));
    const refusal = await bad.atLeast(12, client);
    expect(refusal[3]).toBe(5);
    await socks.close();
    await conn.close();
  });

  it('forwardAgent: each session asks for agent forwarding and auth-agent channels reach the local agent', async () => {
    const { client, log, options } = setup({ forwardAgent: '/run/agent.sock' });
    const agentSaw: string[] = [];
    await client.listenUnix('/run/agent.sock', (s) => {
      s.start({ data: (b) => (agentSaw.push(text(b)), void s.write(bytes('agent-answer'))), end: () => s.end(), close: () => {}, drain: () => {} });
    });
    const conn = await connect(client, options);
    expect((await conn.run('echo x')).stdout).toBe('x\n');
    expect(log.requests.filter((r) => r === 'auth-agent-req@openssh.com')).toHaveLength(1);
    const ch = log.live[0]!.openToClient({ type: 'auth-agent@openssh.com' });
    expect(await ch.opened).toBe(true);
    ch.write('agent-question');
    await client.advance(2);
    expect(agentSaw).toEqual(['agent-question']);
    expect(ch.received()).toBe('agent-answer');
    await conn.close();
    // Without forwardAgent the channel type is refused.
    const plain = setup();
    const c2 = await connect(plain.client, plain.options);
    expect(await plain.log.live[0]!.openToClient({ type: 'auth-agent@openssh.com' }).opened).toBe(false);
    await c2.close();
  });
});
