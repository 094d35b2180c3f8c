/**
 * The server API on the in-memory runtime, driven by the client API: two core/api peers on virtual
 * time, no sockets (DESIGN.md section 4).
 */
import { describe, expect, it } from 'vitest';
import { generatePrivateKey } from '../keys/private-key.ts';
import { publicKeysEqual } from '../keys/public-key.ts';
import { signCertificate } from '../keys/certificate.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { seededRandom } from '../random.ts';
import { MemoryNetwork, MemoryRuntime } from '../testing/memory-runtime.ts';
import { SCRIPTED_ALGORITHMS as FAST, scriptedHostKey as hostKey, scriptedOtherKey as otherKey, scriptedUserKey as userKey } from '../testing/scripted-server.ts';
import { connect, listenReverse, type ClientOptions } from './client.ts';
import type { ByteStream } from './runtime.ts';
import { connectReverse, listen, type ListenOptions, type PublicKeyAttempt, type ServerOptions, type ServerSession } from './server.ts';

function pair(options: Omit<ListenOptions, 'hostKeys'> & { hostKeys?: ServerOptions['hostKeys'] }) {
  const network = new MemoryNetwork();
  const client = new MemoryRuntime({ network });
  const server = new MemoryRuntime({ network });
  const started = listen(server, { hostKeys: [hostKey], algorithms: FAST, port: 22, host: 'server', ...options });
  const base: ClientOptions = { host: 'server', port: 22, username: 'alice', privateKeys: [userKey], hostKey: () => true, algorithms: FAST };
  return { client, server, started, base };
}

const byKey = (a: PublicKeyAttempt) => a.username === 'alice' && publicKeysEqual(a.key, userKey.publicKey);

describe('core/api server: listen, authenticate, sessions', () => {
  it('exec: the handler sees the command, env and user; output, stderr and the returned exit status reach the client', async () => {
    const seen: Array<Pick<ServerSession, 'kind' | 'command' | 'username' | 'env'>> = [];
    const { client, started, base } = pair({
      auth: { publicKey: byKey },
      session: async (s) => {
        seen.push({ kind: s.kind, command: s.command, username: s.username, env: s.env });
        await s.stdout.write(`ran ${s.command}\n`);
        await s.stderr.write('to stderr\n');
        return 7;
      },
    });
    const srv = await started;
    const conn = await connect(client, base);
    const r = await conn.run('make all', { env: { LANG: 'C.UTF-8' } });
    expect(r).toEqual({ stdout: 'ran make all\n', stderr: 'to stderr\n', exitStatus: 7, exitSignal: null });
    expect(seen).toEqual([{ kind: 'exec', command: 'make all', username: 'alice', env: { LANG: 'C.UTF-8' } }]);
    await conn.close();
    await srv.close();
  });

  it('stdin is streamed to the handler and its EOF ends the reader; a shell with a pty gets the size and resizes; signals arrive', async () => {
    const events: string[] = [];
    const { client, started, base } = pair({
      auth: { publicKey: byKey },
      session: async (s) => {
        if (s.kind === 'exec') {
          let n = 0;
          for await (const chunk of s.stdin) n += chunk.length;
          await s.stdout.write(`${n}`);
          return 0;
        }
        events.push(`${s.kind} ${s.pty?.term} ${s.pty?.cols}x${s.pty?.rows}`);
        await new Promise<void>((resolve) => {
          s.onResize = (size) => events.push(`resize ${size.cols}x${size.rows}`);
          s.onSignal = (name) => {
            events.push(`signal ${name}`);
            resolve();
          };
        });
        await s.exitSignal('INT');
      },
    });
    const srv = await started;
    const conn = await connect(client, base);
    const big = new Uint8Array(300_000).fill(1);
    expect((await conn.run('count', { input: big })).stdout).toBe('300000');
    const shell = conn.shell({ pty: { term: 'xterm-256color', cols: 100, rows: 30 } });
    await shell.started;
    await shell.resize(120, 40);
    await client.advance(5);
    await shell.signal('INT');
    const exit = await shell.exit;
    expect(exit.exitSignal?.signal).toBe('INT');
    expect(events).toEqual(['shell xterm-256color 100x30', 'resize 120x40', 'signal INT']);
    await conn.close();
    await srv.close();
  });

  it('password, keyboard-interactive rounds and none; wrong answers are refused and the handler only ever hears proven keys or queries', async () => {
    const attempts: string[] = [];
    const { client, started, base } = pair({
      auth: {
        password: ({ username, password }) => username === 'alice' && password === 'right',
        keyboardInteractive: ({ responses }) => (responses === null ? { prompts: [{ prompt: 'Code: ', echo: false }] } : responses?.[0] === '42'),
        publicKey: (a) => (attempts.push(`${a.proven ? 'proven' : 'query'} ${publicKeysEqual(a.key, userKey.publicKey) ? 'user' : 'other'}`), byKey(a)),
        none: (username) => username === 'guest',
      },
      session: () => 0,
    });
    const srv = await started;
    const { privateKeys: _keys, ...noKeys } = base;
    void _keys;
    await (await connect(client, { ...noKeys, password: 'right' })).close();
    await expect(connect(client, { ...noKeys, password: 'wrong' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await (await connect(client, { ...noKeys, keyboardInteractive: () => ['42'] })).close();
    await expect(connect(client, { ...noKeys, keyboardInteractive: () => ['41'] })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await (await connect(client, { ...noKeys, username: 'guest' })).close();
    await (await connect(client, { ...base, privateKeys: [otherKey, userKey] })).close();
    expect(attempts).toEqual(['query other', 'query user', 'proven user']);
    await srv.close();
  });

  it('a certificate reaches the publicKey handler parsed, so the handler can check its CA', async () => {
    const ca = generatePrivateKey('ed25519', seededRandom('server test ca'), pureCrypto);
    const cert = signCertificate(pureCrypto, ca, { publicKey: userKey.publicKey, certType: 'user', keyId: 'alice@corp', principals: ['alice'] });
    const seen: string[] = [];
    const { client, started, base } = pair({
      auth: {
        publicKey: (a) => {
          seen.push(`${a.proven ? 'proven' : 'query'} ${a.certificate?.keyId ?? 'plain'}`);
          return a.certificate !== undefined && publicKeysEqual(a.certificate.signatureKey, ca.publicKey) && a.certificate.principals.includes(a.username);
        },
      },
      session: () => 0,
    });
    const srv = await started;
    await (await connect(client, { ...base, certificates: [cert] })).close();
    expect(seen).toEqual(['query alice@corp', 'proven alice@corp']);
    await srv.close();
  });

  it('AuthenticationMethods chains: publickey then password', async () => {
    const { client, started, base } = pair({ auth: { publicKey: byKey, password: ({ password }) => password === 'pw', methods: [['publickey', 'password']] }, session: () => 0 });
    const srv = await started;
    await expect(connect(client, base)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await (await connect(client, { ...base, password: 'pw' })).close();
    await srv.close();
  });

  it('without a session handler sessions are refused; a handler that throws ends the session with status 1 and a log line, not the server', async () => {
    const logs: string[] = [];
    const { client, started, base } = pair({
      auth: { publicKey: byKey },
      session: (s) => {
        if (s.command === 'boom') throw new Error('handler bug');
      },
      log: (r) => logs.push(r.message),
    });
    const srv = await started;
    const conn = await connect(client, base);
    expect((await conn.run('boom')).exitStatus).toBe(1);
    expect(logs.some((l) => l.includes('handler bug'))).toBe(true);
    expect((await conn.run('fine')).exitStatus).toBe(0);
    await conn.close();
    await srv.close();
    const bare = pair({ auth: { publicKey: byKey } });
    const srv2 = await bare.started;
    const c2 = await connect(bare.client, bare.base);
    await expect(c2.run('x')).rejects.toThrow(/exec/);
    await expect(c2.openDirectTcpip('x', 1)).rejects.toMatchObject({ name: 'ChannelOpenError' });
    await c2.close();
    await srv2.close();
  });

  it('close() sends DISCONNECT 11 to every client and waits for them; the port refuses afterwards', async () => {
    const { client, started, base } = pair({ auth: { publicKey: byKey }, session: () => new Promise<number>(() => {}) });
    const srv = await started;
    const a = await connect(client, base);
    const b = await connect(client, base);
    expect(srv.connections.size).toBe(2);
    void a.spawn('hang');
    await srv.close();
    for (const c of [a, b]) expect(await c.closed).toMatchObject({ code: 'PEER_DISCONNECTED', reason: 11 });
    expect(srv.connections.size).toBe(0);
    await expect(client.connectTcp('server', 22)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a host key path that does not exist fails listen with the fix; no host key at all is refused', async () => {
    const runtime = new MemoryRuntime({ network: new MemoryNetwork() });
    await expect(listen(runtime, { hostKeys: ['/etc/ssh/none'] })).rejects.toThrow(/does not exist; create one with: ssh-keygen/);
    await expect(listen(runtime, { hostKeys: [] })).rejects.toThrow(/at least one host key/);
  });
});

describe('core/api server: readLines and the line editor', () => {
  it('on a pty: echo and editing through the line editor, ^C interrupts, ^D ends; without a pty: stdin split into lines (the summing server)', async () => {
    let interrupts = 0;
    const { client, started, base } = pair({
      auth: { publicKey: byKey },
      session: async (s) => {
        if (!s.pty) {
          let sum = 0;
          for await (const line of s.readLines()) sum += Number(line);
          await s.stdout.write(`${sum}\n`);
          return 0;
        }
        await s.stdout.write('> ');
        for await (const line of s.readLines({ onInterrupt: () => void interrupts++ })) await s.stdout.write(`got [${line}]\r\n> `);
        return 0;
      },
    });
    const srv = await started;
    const conn = await connect(client, base);
    expect((await conn.run('sum', { input: '1\n2\r\n39' })).stdout).toBe('42\n');
    const shell = conn.shell({ pty: { term: 'xterm', cols: 80, rows: 24 } });
    await shell.started;
    let seen = '';
    const reading = (async () => {
      for await (const chunk of shell.stdout) seen += new TextDecoder().decode(chunk);
    })();
    for (const keys of ['helo', '\u001b[D', 'l', '\r', 'oops', '\u0003', 'bye\r', '\u0004']) {
      await shell.stdin.write(keys);
      await client.advance(2);
    }
    await reading;
    expect((await shell.exit).exitStatus).toBe(0);
    expect(interrupts).toBe(1);
    expect(seen).toContain('got [hello]');
    expect(seen).toContain('oops^C\r\n');
    expect(seen).toContain('got [bye]');
    expect(seen).not.toContain('got [oops');
    await conn.close();
    await srv.close();
  });
});

describe('core/api server: limits', () => {
  it('MaxStartups N: connections past N that have not logged in are dropped (and logged); a login frees a place', async () => {
    const logs: string[] = [];
    const { client, started, base } = pair({ auth: { publicKey: byKey }, session: () => 0, maxStartups: '2', log: (r) => r.event === 'limit' && logs.push(r.message) });
    const srv = await started;
    const idle = [await client.connectTcp('server', 22), await client.connectTcp('server', 22)];
    const closedEarly: boolean[] = [];
    idle.forEach((s, i) => s.start({ data: () => {}, end: () => {}, close: () => void (i > 0 && closedEarly.push(true)), drain: () => {} }));
    await client.advance(5);
    const refused = connect(client, { ...base, loginTimeout: 1000 }).then(() => 'logged in', (e: Error) => e.message);
    for (let i = 0; i < 20; i++) await client.advance(100);
    expect(await refused).not.toBe('logged in');
    expect(logs.some((l) => /2 connections have not logged in yet \(MaxStartups 2\)/.test(l)), logs.join('\n')).toBe(true);
    idle[0]!.destroy();
    await client.advance(5);
    const conn = await connect(client, base);
    // Logged in: it no longer counts, so one more idle connection fits.
    const third = await client.connectTcp('server', 22);
    third.start({ data: () => {}, end: () => {}, close: () => void closedEarly.push(true), drain: () => {} });
    await client.advance(5);
    expect(srv.connections.size).toBe(3);
    expect(closedEarly).toEqual([]);
    await conn.close();
    await srv.close();
  });

  it('begin:rate:full drops a share between begin and full and everything at full; parse errors say the form', async () => {
    const runtime = new MemoryRuntime({ network: new MemoryNetwork() });
    await expect(listen(runtime, { hostKeys: [hostKey], maxStartups: '10:200:50' })).rejects.toThrow(/rate is a percentage/);
    await expect(listen(runtime, { hostKeys: [hostKey], maxStartups: 'lots' })).rejects.toThrow(/is not N or begin:rate:full/);
    const { refusesStartup } = await import('./max-startups.ts');
    const limit = { begin: 2, rate: 50, full: 4 };
    expect(refusesStartup(limit, 1, () => 0)).toBe(false);
    expect(refusesStartup(limit, 2, () => 0.49)).toBe(true);
    expect(refusesStartup(limit, 2, () => 0.51)).toBe(false);
    expect(refusesStartup(limit, 3, () => 0.74)).toBe(true);
    expect(refusesStartup(limit, 4, () => 0.99)).toBe(true);
  });

  it('MaxSessions: the session past the limit is refused, the others run', async () => {
    const { client, started, base } = pair({ auth: { publicKey: byKey }, maxSessions: 2, session: (s) => new Promise<number>((resolve) => (s.onSignal = () => resolve(0))) });
    const srv = await started;
    const conn = await connect(client, base);
    const a = conn.spawn('a');
    const b = conn.spawn('b');
    await Promise.all([a.started, b.started]);
    await expect(conn.run('c')).rejects.toMatchObject({ name: 'ChannelOpenError', reason: 1 });
    await a.signal('TERM');
    expect((await a.exit).exitStatus).toBe(0);
    await client.advance(2);
    const d = conn.spawn('d');
    await d.started;
    await Promise.all([b.signal('TERM'), d.signal('TERM')]);
    await Promise.all([b.exit, d.exit]);
    await conn.close();
    await srv.close();
  });
});

describe('core/api server: RFC 8071 reverse direction', () => {
  it('connectReverse dials a listenReverse client, which logs in and runs a command on us', async () => {
    const network = new MemoryNetwork();
    const clientSide = new MemoryRuntime({ network });
    const serverSide = new MemoryRuntime({ network });
    const logins: Array<Promise<string>> = [];
    const listener = await listenReverse(clientSide, {
      bindHost: 'client',
      bindPort: 4000,
      username: 'alice',
      privateKeys: [userKey],
      hostKey: (d) => publicKeysEqual(d.hostKey, hostKey.publicKey),
      algorithms: FAST,
      onConnection: (conn) => logins.push(conn.run('whoami').then(async (r) => (await conn.close(), r.stdout))),
    });
    const served = await connectReverse(serverSide, { host: 'client', port: 4000, hostKeys: [hostKey], algorithms: FAST, auth: { publicKey: byKey }, session: (s) => void s.stdout.write(`${s.username}\n`) });
    for (let i = 0; i < 50 && logins.length === 0; i++) await clientSide.advance(2);
    expect(await logins[0]).toBe('alice\n');
    expect(await served.closed).toMatchObject({ code: 'PEER_DISCONNECTED' });
    await listener.close();
  });
});

describe('core/api server: forwarding policy, custom channels, subsystems, agent forwarding', () => {
  /** A stream's bytes as text once `n` characters arrived (or 200 virtual ms passed). */
  async function collect(stream: ByteStream, runtime: MemoryRuntime, n: number): Promise<string> {
    let got = '';
    stream.start({ data: (b) => void (got += new TextDecoder().decode(b)), end: () => {}, close: () => {}, drain: () => {} });
    for (let i = 0; i < 200 && got.length < n; i++) await runtime.advance(1);
    return got;
  }

  it('direct-tcpip: connect dials the target, a function serves in-process, false is prohibited (1), an unreachable target is CONNECT_FAILED (2)', async () => {
    const asked: string[] = [];
    const { client, server, started, base } = pair({
      auth: { publicKey: byKey },
      forwarding: {
        direct: ({ host, port, username }) => {
          asked.push(`${username}->${host}:${port}`);
          if (host === "echo.internal") return (channel) => void (async () => {
            for await (const chunk of channel.reader) await channel.writer.write(chunk);
            await channel.writer.end();
          })().catch(() => {});
          return host === 'db.internal' || host === 'nowhere' ? 'connect' : false;
        },
      },
    });
    await server.listenTcp('db.internal', 5432, (s) => {
      s.start({ data: () => {}, end: () => s.end(), close: () => {}, drain: () => {} });
      s.write(new TextEncoder().encode('db hello'));
    });
    const srv = await started;
    const conn = await connect(client, base);
    const db = await conn.openDirectTcpip('db.internal', 5432);
    expect(new TextDecoder().decode((await db.reader.read())!)).toBe('db hello');
    const echo = await conn.openDirectTcpip('echo.internal', 7);
    await echo.writer.write('ping');
    expect(new TextDecoder().decode((await echo.reader.read())!)).toBe('ping');
    await expect(conn.openDirectTcpip('secret.internal', 22)).rejects.toMatchObject({ name: 'ChannelOpenError', reason: 1 });
    await expect(conn.openDirectTcpip('nowhere', 1)).rejects.toMatchObject({ name: 'ChannelOpenError', reason: 2 });
    expect(asked).toEqual(['alice->db.internal:5432', 'alice->echo.internal:7', 'alice->secret.internal:22', 'alice->nowhere:1']);
    await conn.close();
    await srv.close();
  });

  it('tcpip-forward: an allowed port 0 listens on the server and reports the port; connections reach the client; refused ones fail; the listener closes with the connection', async () => {
    const { client, server, started, base } = pair({ auth: { publicKey: byKey }, forwarding: { remote: ({ port }) => port === 0 || port === 8080 } });
    await client.listenTcp('web.local', 80, (s) => {
      s.start({ data: () => {}, end: () => s.end(), close: () => {}, drain: () => {} });
      s.write(new TextEncoder().encode('from the client side'));
    });
    const srv = await started;
    const conn = await connect(client, base);
    const fwd = await conn.forwardRemote({ bindHost: 'localhost', bindPort: 0, host: 'web.local', port: 80 });
    const port = (fwd.address as { port: number }).port;
    expect(port).toBeGreaterThan(0);
    expect(await collect(await server.connectTcp('127.0.0.1', port), server, 20)).toBe('from the client side');
    await expect(conn.forwardRemote({ bindPort: 9999, host: 'web.local', port: 80 })).rejects.toMatchObject({ name: 'GlobalRequestError' });
    await conn.close();
    await srv.close();
    await expect(server.connectTcp('127.0.0.1', port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a custom channel type and a subsystem of our own; unknown types are UNKNOWN_CHANNEL_TYPE (3)', async () => {
    const { client, started, base } = pair({
      auth: { publicKey: byKey },
      channels: {
        'upper@example.com': (channel, { request, username }) => {
          const data = request.type === 'other' ? new TextDecoder().decode(request.data) : '';
          void channel.opened.then(async () => {
            await channel.writer.write(`${username}:${data.toUpperCase()}`);
            await channel.close();
          });
          return data !== 'refuse';
        },
      },
      subsystems: { greet: (s) => void s.stdout.write(`hello from ${s.subsystem}\n`) },
      session: () => 9,
    });
    const srv = await started;
    const conn = await connect(client, base);
    const upper = conn.openChannel({ type: 'other', name: 'upper@example.com', data: new TextEncoder().encode('shout') });
    await upper.opened;
    expect(new TextDecoder().decode((await upper.reader.read())!)).toBe('alice:SHOUT');
    await expect(conn.openChannel({ type: 'other', name: 'upper@example.com', data: new TextEncoder().encode('refuse') }).opened).rejects.toMatchObject({ reason: 1 });
    await expect(conn.openChannel({ type: 'other', name: 'nope@example.com', data: new Uint8Array(0) }).opened).rejects.toMatchObject({ reason: 3 });
    const greet = conn.subsystem('greet');
    let out = '';
    for await (const chunk of greet.stdout) out += new TextDecoder().decode(chunk);
    expect(out).toBe('hello from greet\n');
    expect((await greet.exit).exitStatus).toBe(0);
    expect((await conn.run('other')).exitStatus).toBe(9);
    await conn.close();
    await srv.close();
  });

  it('agent forwarding: an allowed session gets SSH_AUTH_SOCK in a private directory, and what it writes there reaches the client agent and back; refused without the policy', async () => {
    const agentSaw: string[] = [];
    for (const allowed of [true, false]) {
      let serverRuntime: MemoryRuntime | null = null;
      const { client, server, started, base } = pair({
        auth: { publicKey: byKey },
        forwarding: { agent: allowed },
        session: async (s) => {
          const path = s.env['SSH_AUTH_SOCK'];
          if (!path) return (await s.stdout.write('no agent'), 2);
          const sock = await serverRuntime!.connectUnix(path);
          const reply = await new Promise<string>((resolve) => {
            sock.start({ data: (b) => resolve(new TextDecoder().decode(b)), end: () => resolve(''), close: () => resolve(''), drain: () => {} });
            sock.write(new TextEncoder().encode('request-identities'));
          });
          sock.destroy();
          await s.stdout.write(`${/^\/tmp\/hermit-agent-[0-9a-f]{16}\/agent\.sock$/.test(path) ? 'private-dir ' : path}${reply}`);
          return 0;
        },
      });
      serverRuntime = server;
      const srv = await started;
      await client.listenUnix('/home/alice/agent.sock', (a) => {
        a.start({ data: (b) => (agentSaw.push(new TextDecoder().decode(b)), void a.write(new TextEncoder().encode('agent-answer'))), end: () => a.end(), close: () => {}, drain: () => {} });
      });
      const conn = await connect(client, { ...base, forwardAgent: '/home/alice/agent.sock' });
      const r = await conn.run('use-agent');
      expect(r.stdout).toBe(allowed ? 'private-dir agent-answer' : 'no agent');
      expect(r.exitStatus).toBe(allowed ? 0 : 2);
      await conn.close();
      await srv.close();
    }
    expect(agentSaw).toEqual(['request-identities']);
  });
});
