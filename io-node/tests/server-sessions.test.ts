/**
 * The session and forwarding handler (io-node/server-host/server-sessions.ts, server-forwarding.ts, pty.ts)
 * between two engines over loopback sockets: a server engine with the handler, as `hermit serve`
 * will run it, and a raw client engine driven message by message, so that the tests see exactly
 * what goes over the channel — the order data, EOF, exit-status, CLOSE; replies to each request;
 * window-limited flow when the client stops consuming — and real processes, ptys and sockets
 * on the server side.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshEngine, generatePrivateKey, sign, systemRandom, type ChannelRequest, type Decision, type GlobalRequest, type PrivateKey, type SessionPolicy, type SshEvent } from '../../core/index.ts';
import { ConnectionPump, dialTcp } from '../runtime/connection-pump.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { generateHostKey } from '../trust/keys.ts';
import { detectPtyBackend } from '../server-host/pty.ts';
import { serve } from '../server-host/serve.ts';
import { createSessionHandler, type ServerConnectionContext, type SessionHandlerOptions } from '../server-host/server-sessions.ts';

// ---------------------------------------------------------------- server

let hostKey: PrivateKey;
let clientKey: PrivateKey;
let dir: string;

interface TestServer {
  readonly port: number;
  readonly log: string[];
  close(): Promise<void>;
}

/** What `hermit serve` does per socket, with publickey authentication for `clientKey` and the handler for the rest. */
async function startServer(options: SessionHandlerOptions = {}, policy?: SessionPolicy): Promise<TestServer> {
  const log: string[] = [];
  const pumps = new Set<ConnectionPump>();
  const server = createServer((socket) => {
    const engine = new SshEngine({ role: 'server', now: performance.now(), crypto: nodeCrypto, hostKeys: [hostKey] });
    const handler = createSessionHandler({ ...options, log: (l) => log.push(l) });
    let username = '';
    let pump: ConnectionPump;
    const ctx: ServerConnectionContext = {
      command: (fn) => pump.command(fn),
      get username() {
        return username;
      },
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
    };
    pump = new ConnectionPump(engine, socket, {
      onDecision: (d) => {
        if (d.kind === 'authMethods') return [['publickey']];
        if (d.kind === 'authPublicKey') {
          const ok = d.key.blob.length === clientKey.publicKey.blob.length && d.key.blob.every((b, i) => b === clientKey.publicKey.blob[i]);
          return ok && policy ? { accept: true, policy } : ok;
        }
        if (d.kind.startsWith('auth')) return false;
        const answer = handler.onDecision(d, ctx);
        if (answer !== undefined) return answer;
        return d.kind === 'channelOpen' ? { reason: 1, description: 'not offered' } : false;
      },
      onEvent: (e) => {
        if (e.type === 'authSuccess') username = e.username;
        handler.onEvent(e, ctx);
      },
    });
    pumps.add(pump);
    void pump.closed.then(() => pumps.delete(pump));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    log,
    close: async () => {
      const all = [...pumps];
      for (const p of all) p.disconnect('test over');
      await Promise.all(all.map((p) => p.closed));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------- client

interface ChannelLog {
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
  /** Channel events in arrival order, consecutive data collapsed: data, eof, exit-status, exit-signal, close. */
  readonly order: string[];
  exit?: { status?: number; signal?: string; coreDumped?: boolean };
  received: number;
  unconsumed: number;
  /** Index in `history` when the channel was opened: ids are reused, so older events must not count. */
  readonly since: number;
}

function newLog(since: number): ChannelLog {
  return { stdout: [], stderr: [], order: [], received: 0, unconsumed: 0, since };
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');

/** A client engine on a socket, driven step by step; every event is kept in `history`. */
class TestClient {
  readonly history: SshEvent[] = [];
  readonly channels = new Map<number, ChannelLog>();
  /** Channels whose data is not reported consumed until `consumeAll`. */
  readonly holding = new Set<number>();
  /** forwarded-* channels the server opened; the client echoes their data back. */
  readonly echoing = new Set<number>();
  /** Channels this client closes the moment the server's EOF arrives, as some clients do. */
  readonly closingOnEof = new Set<number>();
  readonly forwardedOpens: Array<Decision & { kind: 'channelOpen' }> = [];
  private waiters: Array<() => void> = [];
  pump!: ConnectionPump;

  static async connect(port: number): Promise<TestClient> {
    const client = new TestClient();
    const socket = await dialTcp('127.0.0.1', port, 10_000);
    client.pump = new ConnectionPump(
      new SshEngine({ role: 'client', now: performance.now(), crypto: nodeCrypto, username: 'tester', clientAuth: { methods: ['publickey'], publicKeys: [{ key: clientKey.publicKey }] } }),
      socket,
      { onDecision: (d) => client.decide(d), onEvent: (e) => client.onEvent(e) },
    );
    await client.waitFor((e) => e.type === 'authSuccess', 0);
    return client;
  }

  private decide(d: Decision): unknown {
    if (d.kind === 'hostKey') return true;
    if (d.kind === 'sign') return sign(nodeCrypto, clientKey, d.algorithm, d.data);
    if (d.kind === 'channelOpen') {
      this.forwardedOpens.push(d);
      this.channels.set(d.channel, newLog(this.history.length));
      this.echoing.add(d.channel);
      return true;
    }
    return false;
  }

  private onEvent(e: SshEvent): void {
    this.history.push(e);
    if ('channel' in e) {
      const log = this.channels.get(e.channel);
      const note = (what: string) => {
        if (log && log.order.at(-1) !== what) log.order.push(what);
      };
      if (e.type === 'channelData' && log) {
        (e.dataType === 1 ? log.stderr : log.stdout).push(Buffer.from(e.data));
        log.received += e.data.length;
        note('data');
        if (this.echoing.has(e.channel)) this.pump.command((en, now) => en.write(e.channel, e.data, now));
        if (this.holding.has(e.channel)) log.unconsumed += e.data.length;
        else this.pump.command((en, now) => en.consumed(e.channel, e.data.length, now));
      }
      if (e.type === 'channelEof') {
        note('eof');
        if (this.closingOnEof.has(e.channel)) this.pump.command((en, now) => en.close(e.channel, now));
        if (this.echoing.has(e.channel)) this.pump.command((en, now) => (en.eof(e.channel, now), en.close(e.channel, now)));
      }
      if (e.type === 'channelRequest' && log) {
        note(e.request.type);
        if (e.request.type === 'exit-status') log.exit = { status: e.request.status };
        if (e.request.type === 'exit-signal') log.exit = { signal: e.request.signal, coreDumped: e.request.coreDumped };
      }
      if (e.type === 'channelClosed') {
        note('close');
        this.echoing.delete(e.channel);
        this.holding.delete(e.channel);
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** The first event from `history[from]` on that matches, waiting for it if need be. */
  waitFor(pred: (e: SshEvent) => boolean, from: number, timeoutMs = 30_000): Promise<SshEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting; last events: ${this.history.slice(-8).map((e) => e.type).join(', ')}`)), timeoutMs);
      const check = () => {
        const found = this.history.slice(from).find(pred);
        if (found) {
          clearTimeout(timer);
          resolve(found);
          return;
        }
        if (this.pump.engine.isClosed) {
          clearTimeout(timer);
          reject(new Error('connection closed'));
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** Wait until `cond()` holds, re-checking after every event (and every 50 ms for outside conditions). */
  async until(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  command<T>(fn: (e: SshEngine, now: number) => T): T {
    let result!: T;
    this.pump.command((e, now) => (result = fn(e, now)));
    return result;
  }

  async open(request: Parameters<SshEngine['openChannel']>[0] = { type: 'session' }): Promise<{ channel: number; confirmed: boolean; reason?: number; description?: string }> {
    const mark = this.history.length;
    const channel = this.command((e, now) => e.openChannel(request, now));
    this.channels.set(channel, newLog(mark));
    const ev = await this.waitFor((e) => (e.type === 'channelOpenConfirmed' || e.type === 'channelOpenFailed') && e.channel === channel, mark);
    if (ev.type === 'channelOpenFailed') return { channel, confirmed: false, reason: ev.reason, description: ev.description };
    return { channel, confirmed: true };
  }

  async request(channel: number, request: ChannelRequest, wantReply = true): Promise<boolean> {
    const mark = this.history.length;
    this.command((e, now) => e.channelRequest(channel, request, wantReply, now));
    if (!wantReply) return true;
    const ev = await this.waitFor((e) => e.type === 'channelRequestReply' && e.channel === channel, mark);
    return ev.type === 'channelRequestReply' && ev.success;
  }

  async global(request: GlobalRequest): Promise<SshEvent & { type: 'globalReply' }> {
    const mark = this.history.length;
    this.command((e, now) => e.globalRequest(request, true, now));
    return (await this.waitFor((e) => e.type === 'globalReply', mark)) as SshEvent & { type: 'globalReply' };
  }

  write(channel: number, data: Uint8Array | string, dataType = 0): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.command((e, now) => e.write(channel, bytes, now, dataType));
  }

  eof(channel: number): void {
    this.command((e, now) => e.eof(channel, now));
  }

  consumeAll(channel: number): void {
    this.holding.delete(channel);
    const log = this.channels.get(channel)!;
    const n = log.unconsumed;
    log.unconsumed = 0;
    if (n > 0) this.command((e, now) => e.consumed(channel, n, now));
  }

  closed(channel: number): Promise<SshEvent> {
    return this.waitFor((e) => e.type === 'channelClosed' && e.channel === channel, this.channels.get(channel)!.since, 60_000);
  }

  /** exec `command` in a new session (optionally with a pty and env), feed `stdin`, wait for the close. */
  async exec(command: string, opts: { stdin?: Uint8Array | string; pty?: ChannelRequest & { type: 'pty-req' }; env?: Record<string, string> } = {}): Promise<ChannelLog & { channel: number; replies: boolean[] }> {
    const { channel } = await this.open();
    const replies: boolean[] = [];
    for (const [name, value] of Object.entries(opts.env ?? {})) replies.push(await this.request(channel, { type: 'env', name, value }));
    if (opts.pty) replies.push(await this.request(channel, opts.pty));
    replies.push(await this.request(channel, { type: 'exec', command }));
    if (opts.stdin !== undefined) this.write(channel, opts.stdin);
    if (!opts.pty) this.eof(channel);
    await this.closed(channel);
    return { ...this.channels.get(channel)!, channel, replies };
  }

  async close(): Promise<void> {
    this.pump.disconnect('bye');
    await this.pump.closed;
  }
}

function ptyReq(rows: number, cols: number, modes: Record<string, number> = {}): ChannelRequest & { type: 'pty-req' } {
  return { type: 'pty-req', term: 'xterm-256color', cols, rows, widthPx: 0, heightPx: 0, modes };
}

function echoServer(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

function unixEchoServer(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    server.listen(path, () => resolve(server));
  });
}

/** Send `data` on a socket, half-close, and collect everything until the other side closes. */
function roundTrip(socket: Socket, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.end(data);
  });
}

function dial(options: { port: number; host?: string } | { path: string }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = 'path' in options ? connect({ path: options.path, allowHalfOpen: true }) : connect({ port: options.port, host: options.host ?? '127.0.0.1', allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

// ---------------------------------------------------------------- tests

let server: TestServer;
let client: TestClient;

beforeAll(async () => {
  hostKey = generateHostKey('ed25519');
  clientKey = generatePrivateKey('ed25519', systemRandom, nodeCrypto);
  dir = await mkdtemp(join(tmpdir(), 'hermit-sessions-'));
  server = await startServer({ subsystems: { echo: ['/bin/cat'], upper: ['/usr/bin/tr', 'a-z', 'A-Z'] } });
  client = await TestClient.connect(server.port);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('exec', () => {
  it('streams stdout and stderr and ends with data, EOF, exit-status, CLOSE', async () => {
    const r = await client.exec('echo out; echo err >&2; exit 7');
    expect(text(r.stdout)).toBe('out\n');
    expect(text(r.stderr)).toBe('err\n');
    expect(r.exit).toEqual({ status: 7 });
    expect(r.order).toEqual(['data', 'eof', 'exit-status', 'close']);
    expect(r.replies).toEqual([true]);
  });

  it('reports a command killed by a signal with exit-signal and the name without SIG', async () => {
    const r = await client.exec('kill -KILL $$');
    expect(r.exit).toEqual({ signal: 'KILL', coreDumped: false });
    expect(r.order).toEqual(['eof', 'exit-signal', 'close']);
  });

  it('delivers a signal request to the command (process group) and reports the signal', async () => {
    const { channel } = await client.open();
    expect(await client.request(channel, { type: 'exec', command: 'echo started; sleep 30' })).toBe(true);
    await client.until(() => text(client.channels.get(channel)!.stdout).includes('started'));
    expect(await client.request(channel, { type: 'signal', signal: 'TERM' })).toBe(true);
    await client.closed(channel);
    expect(client.channels.get(channel)!.exit).toEqual({ signal: 'TERM', coreDumped: false });
  });

  it('gives a login-like environment with accepted env requests only', async () => {
    const r = await client.exec('echo "$USER|$LOGNAME|$HOME|$SHELL|$LANG|$LC_ALL|$HERMIT_X|${FOO-unset}|$SSH_CONNECTION|$SSH_CLIENT|$PWD|$(printenv TERM || echo noterm)"', {
      env: { LANG: 'C.UTF-8', LC_ALL: 'C', HERMIT_X: 'x y', FOO: 'bar' },
    });
    expect(r.replies).toEqual([true, true, true, false, true]);
    const u = userInfo();
    const [user, logname, home, shell, lang, lcAll, hx, foo, conn, sshClient, pwd, term] = text(r.stdout).trim().split('|');
    expect([user, logname, home, shell]).toEqual([u.username, u.username, u.homedir, u.shell || '/bin/sh']);
    expect([lang, lcAll, hx, foo, term]).toEqual(['C.UTF-8', 'C', 'x y', 'unset', 'noterm']);
    expect(conn).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${server.port}$`));
    expect(sshClient).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ ${server.port}$`));
    expect(pwd).toBe(u.homedir);
  });

  it('streams 8 MiB through cat in both directions with the same digest', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const r = await client.exec('cat', { stdin: data });
    const out = Buffer.concat(r.stdout);
    expect(out.length).toBe(data.length);
    expect(createHash('sha256').update(out).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(r.exit).toEqual({ status: 0 });
  });

  it('stops reading the command while the client does not consume, and loses nothing', async () => {
    const progress = join(dir, 'progress');
    const { channel } = await client.open();
    client.holding.add(channel);
    const chunk = 64 * 1024;
    // Each round writes 64 KiB then records how many rounds got through the pipe.
    expect(await client.request(channel, { type: 'exec', command: `i=0; while [ $i -lt 256 ]; do head -c ${chunk} /dev/zero; i=$((i+1)); echo $i > ${progress}; done` })).toBe(true);
    const log = client.channels.get(channel)!;
    await client.until(() => log.received >= 2 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 1000));
    const stalledAt = Number(readFileSync(progress, 'utf8'));
    await new Promise((r) => setTimeout(r, 500));
    // The client's 2 MiB window is full and stays full: the command is blocked well short of 16 MiB.
    expect(log.received).toBe(2 * 1024 * 1024);
    expect(Number(readFileSync(progress, 'utf8'))).toBe(stalledAt);
    expect(stalledAt).toBeLessThan(100);
    expect(log.order).toEqual(['data']);
    client.consumeAll(channel);
    await client.closed(channel);
    expect(log.received).toBe(256 * chunk);
    expect(log.exit).toEqual({ status: 0 });
  });

  it('stops reading the command on eow@openssh.com and ends the channel when it dies of that', async () => {
    const { channel } = await client.open();
    await client.request(channel, { type: 'exec', command: 'yes' });
    client.eof(channel);
    const log = client.channels.get(channel)!;
    await client.until(() => log.received > 0);
    await client.request(channel, { type: 'eow@openssh.com' }, false);
    await client.closed(channel);
    // SIGPIPE, or ECONNRESET on Node's socketpair stdio (exit 1): either way `yes` is stopped.
    expect([{ signal: 'PIPE', coreDumped: false }, { status: 1 }]).toContainEqual(log.exit);
    expect(log.order).toEqual(['data', 'eof', log.exit?.signal ? 'exit-signal' : 'exit-status', 'close']);
  });

  it('runs a forced command with SSH_ORIGINAL_COMMAND', async () => {
    const forced = await startServer({}, { forcedCommand: 'echo "forced: $SSH_ORIGINAL_COMMAND"' });
    const c = await TestClient.connect(forced.port);
    try {
      const r = await c.exec('echo asked');
      expect(text(r.stdout)).toBe('forced: echo asked\n');
      expect(r.exit).toEqual({ status: 0 });
      // Without want-reply the engine passes exec on as an event that carries no forcedCommand;
      // the handler takes it from the authentication policy instead.
      const { channel } = await c.open();
      await c.request(channel, { type: 'exec', command: 'echo sneaky' }, false);
      c.eof(channel);
      await c.closed(channel);
      expect(text(c.channels.get(channel)!.stdout)).toBe('forced: echo sneaky\n');
    } finally {
      await c.close();
      await forced.close();
    }
  });

  it('a command without a pty runs on when the connection goes away, as under sshd (no SIGHUP)', async () => {
    const c = await TestClient.connect(server.port);
    const { channel } = await c.open();
    const done = join(dir, 'finished-after-drop');
    await c.request(channel, { type: 'exec', command: `trap 'echo hup > ${done}; exit 1' HUP; echo $$; sleep 1; echo done > ${done}` });
    await c.until(() => text(c.channels.get(channel)!.stdout).includes('\n'));
    const pid = Number(text(c.channels.get(channel)!.stdout).trim());
    await c.close();
    expect(alive(pid)).toBe(true);
    expect(await waitGone(pid)).toBe(true);
    expect(readFileSync(done, 'utf8')).toBe('done\n');
  });

  it('a command without a pty runs on when the client closes its channel; the CLOSE is answered at once', async () => {
    const { channel } = await client.open();
    const done = join(dir, 'finished-after-close');
    await client.request(channel, { type: 'exec', command: `echo $$; sleep 1; echo done > ${done}` });
    await client.until(() => text(client.channels.get(channel)!.stdout).includes('\n'));
    const pid = Number(text(client.channels.get(channel)!.stdout).trim());
    const t0 = performance.now();
    client.command((e, now) => e.close(channel, now));
    await client.closed(channel);
    expect(performance.now() - t0).toBeLessThan(900);
    expect(alive(pid)).toBe(true);
    expect(await waitGone(pid)).toBe(true);
    expect(readFileSync(done, 'utf8')).toBe('done\n');
  });

  it('a client that closes as soon as it sees our EOF still gets the exit status, 30 times out of 30', async () => {
    const statuses: Array<number | string | undefined> = [];
    for (let i = 0; i < 30; i++) {
      const { channel } = await client.open();
      client.closingOnEof.add(channel);
      client.eof(channel);
      expect(await client.request(channel, { type: 'exec', command: i % 10 === 9 ? 'kill -TERM $$' : 'exit 3' })).toBe(true);
      await client.closed(channel);
      const log = client.channels.get(channel)!;
      statuses.push(log.exit?.status ?? log.exit?.signal);
      // The report precedes the CLOSE, and nothing follows the CLOSE.
      expect(log.order.slice(-2)).toEqual([i % 10 === 9 ? 'exit-signal' : 'exit-status', 'close']);
    }
    expect(statuses).toEqual(Array.from({ length: 30 }, (_, i) => (i % 10 === 9 ? 'TERM' : 3)));
  }, 60_000);

  it('refuses a second exec on the same channel and X11/agent forwarding', async () => {
    const { channel } = await client.open();
    expect(await client.request(channel, { type: 'x11-req', singleConnection: false, authProtocol: 'MIT-MAGIC-COOKIE-1', authCookie: '00', screen: 0 })).toBe(false);
    expect(await client.request(channel, { type: 'auth-agent-req@openssh.com' })).toBe(false);
    expect(await client.request(channel, { type: 'exec', command: 'read x; echo got $x' })).toBe(true);
    expect(await client.request(channel, { type: 'exec', command: 'echo second' })).toBe(false);
    expect(await client.request(channel, { type: 'break', lengthMs: 100 })).toBe(false);
    client.write(channel, 'line\n');
    client.eof(channel);
    await client.closed(channel);
    expect(text(client.channels.get(channel)!.stdout)).toBe('got line\n');
  });
});

describe('shell and subsystem', () => {
  it('runs a login shell reading commands from stdin', async () => {
    const { channel } = await client.open();
    expect(await client.request(channel, { type: 'shell' })).toBe(true);
    client.write(channel, 'echo "$0"; exit 3\n');
    client.eof(channel);
    await client.closed(channel);
    const log = client.channels.get(channel)!;
    expect(text(log.stdout).trim()).toMatch(/^-\S+$/);
    expect(log.exit).toEqual({ status: 3 });
  });

  it('runs configured subsystems and refuses unknown ones', async () => {
    const { channel } = await client.open();
    expect(await client.request(channel, { type: 'subsystem', name: 'nope' })).toBe(false);
    expect(await client.request(channel, { type: 'subsystem', name: 'upper' })).toBe(true);
    client.write(channel, 'hello subsystem');
    client.eof(channel);
    await client.closed(channel);
    expect(text(client.channels.get(channel)!.stdout)).toBe('HELLO SUBSYSTEM');
  });
});

describe.each(['python', 'script'] as const)('pty (%s helper)', (backend) => {
  let ptyServer: TestServer;
  let c: TestClient;

  beforeAll(async () => {
    expect(detectPtyBackend(backend)).toBe(backend);
    ptyServer = await startServer({ pty: backend });
    c = await TestClient.connect(ptyServer.port);
  });

  afterAll(async () => {
    await c?.close();
    await ptyServer?.close();
  });

  it('runs the command on a /dev/pts terminal of the requested size with TERM and SSH_TTY', async () => {
    const { channel } = await c.open();
    expect(await c.request(channel, ptyReq(33, 101))).toBe(true);
    expect(await c.request(channel, { type: 'exec', command: 'tty; stty size; echo "$TERM $SSH_TTY"; exit 4' })).toBe(true);
    await c.closed(channel);
    const log = c.channels.get(channel)!;
    const lines = text(log.stdout).split('\r\n');
    expect(lines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines[1]).toBe('33 101');
    expect(lines[2]).toBe(`xterm-256color ${lines[0]}`);
    expect(log.stderr).toEqual([]);
    expect(log.exit).toEqual({ status: 4 });
    expect(log.order).toEqual(['data', 'eof', 'exit-status', 'close']);
  });

  it('applies terminal modes from pty-req (echo off, icanon off)', async () => {
    const r = await c.exec('stty -a', { pty: ptyReq(24, 80, { ECHO: 0, ICANON: 0, ISIG: 1 }) });
    const out = text(r.stdout);
    expect(out).toMatch(/(^|\s)-echo(\s|$)/);
    expect(out).toMatch(/(^|\s)-icanon(\s|$)/);
    expect(out).toMatch(/(^|\s)isig(\s|$)/);
    const defaults = await c.exec('stty -a', { pty: ptyReq(24, 80) });
    expect(text(defaults.stdout)).toMatch(/(^|\s)echo(\s|$)/);
  });

  it('resizes the terminal on window-change', async () => {
    const { channel } = await c.open();
    await c.request(channel, ptyReq(24, 80));
    await c.request(channel, { type: 'exec', command: 'stty size; while read x; do stty size; done' });
    const log = c.channels.get(channel)!;
    await c.until(() => text(log.stdout).includes('24 80'));
    await c.request(channel, { type: 'window-change', cols: 132, rows: 50, widthPx: 0, heightPx: 0 }, false);
    // The resize and the input race inside the helper; keep asking until the new size shows.
    for (let i = 0; i < 50 && !text(log.stdout).includes('50 132'); i++) {
      c.write(channel, '\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(text(log.stdout)).toContain('50 132');
    await c.request(channel, { type: 'signal', signal: 'HUP' });
    await c.closed(channel);
  });

  it('passes input through the terminal (echo and line discipline)', async () => {
    const { channel } = await c.open();
    await c.request(channel, ptyReq(24, 80));
    await c.request(channel, { type: 'exec', command: 'read line; echo "got:$line"' });
    c.write(channel, 'typed\r');
    await c.closed(channel);
    const out = text(c.channels.get(channel)!.stdout);
    expect(out).toContain('typed\r\n');
    expect(out).toContain('got:typed\r\n');
  });

  it('reports a command killed by a signal', async () => {
    const r = await c.exec('kill -KILL $$', { pty: ptyReq(24, 80) });
    // script(1) can only pass the status on as 128+N (see pty.ts); python reports the signal.
    expect(r.exit).toEqual(backend === 'python' ? { signal: 'KILL', coreDumped: false } : { status: 137 });
  });

  it('accepts break on a pty session only where the helper can send one', async () => {
    const { channel } = await c.open();
    await c.request(channel, ptyReq(24, 80));
    await c.request(channel, { type: 'exec', command: 'sleep 30' });
    expect(await c.request(channel, { type: 'break', lengthMs: 500 })).toBe(backend === 'python');
    expect(await c.request(channel, { type: 'signal', signal: 'INT' })).toBe(true);
    await c.closed(channel);
  });

  it('hangs up the command (SIGHUP) when the connection goes away', async () => {
    const c2 = await TestClient.connect(ptyServer.port);
    const { channel } = await c2.open();
    const hup = join(dir, `hup-${backend}`);
    await c2.request(channel, ptyReq(24, 80));
    await c2.request(channel, { type: 'exec', command: `trap 'echo hup > ${hup}; exit 0' HUP; echo pid=$$; while :; do sleep 0.1; done` });
    const log = c2.channels.get(channel)!;
    await c2.until(() => /pid=\d+/.test(text(log.stdout)));
    const pid = Number(/pid=(\d+)/.exec(text(log.stdout))![1]);
    await c2.close();
    expect(await waitGone(pid)).toBe(true);
    expect(readFileSync(hup, 'utf8')).toBe('hup\n');
  });

  it('hangs up the command when the client closes the channel', async () => {
    const { channel } = await c.open();
    await c.request(channel, ptyReq(24, 80));
    await c.request(channel, { type: 'exec', command: 'echo pid=$$; exec sleep 60' });
    const log = c.channels.get(channel)!;
    await c.until(() => /pid=\d+/.test(text(log.stdout)));
    const pid = Number(/pid=(\d+)/.exec(text(log.stdout))![1]);
    expect(alive(pid)).toBe(true);
    c.command((e, now) => e.close(channel, now));
    await c.closed(channel);
    expect(await waitGone(pid)).toBe(true);
  });
});

describe('forwarding', () => {
  let echo: { server: Server; port: number };

  beforeAll(async () => {
    echo = await echoServer();
  });

  afterAll(() => {
    echo?.server.close();
  });

  it('direct-tcpip connects and carries bytes both ways with half-close', async () => {
    const { channel, confirmed } = await client.open({ type: 'direct-tcpip', host: '127.0.0.1', port: echo.port, originatorAddress: '127.0.0.1', originatorPort: 5555 });
    expect(confirmed).toBe(true);
    const payload = randomBytes(3 * 1024 * 1024);
    client.write(channel, payload);
    client.eof(channel);
    await client.closed(channel);
    const log = client.channels.get(channel)!;
    expect(Buffer.concat(log.stdout).equals(payload)).toBe(true);
    expect(log.order).toEqual(['data', 'eof', 'close']);
  });

  it('direct-tcpip to a closed port fails with CONNECT_FAILED and the reason', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await client.open({ type: 'direct-tcpip', host: '127.0.0.1', port: closed, originatorAddress: '127.0.0.1', originatorPort: 5555 });
    expect(r).toMatchObject({ confirmed: false, reason: 2, description: 'Connection refused' });
  });

  it('tcpip-forward on port 0 allocates a port, forwards connections, and cancel stops listening', async () => {
    const reply = await client.global({ type: 'tcpip-forward', address: 'localhost', port: 0 });
    expect(reply.success).toBe(true);
    const port = reply.port!;
    expect(port).toBeGreaterThan(0);
    const socket = await dial({ port, host: '127.0.0.1' });
    const back = await roundTrip(socket, Buffer.from('through the reverse tunnel'));
    expect(back.toString()).toBe('through the reverse tunnel');
    const open = client.forwardedOpens.at(-1)!;
    expect(open.request).toMatchObject({ type: 'forwarded-tcpip', address: 'localhost', port, originatorAddress: '127.0.0.1' });
    expect((await client.global({ type: 'cancel-tcpip-forward', address: 'localhost', port })).success).toBe(true);
    await expect(dial({ port, host: '127.0.0.1' })).rejects.toThrow(/ECONNREFUSED/);
    expect((await client.global({ type: 'cancel-tcpip-forward', address: 'localhost', port })).success).toBe(false);
  });

  it('tcpip-forward on a port in use fails', async () => {
    const reply = await client.global({ type: 'tcpip-forward', address: '127.0.0.1', port: echo.port });
    expect(reply.success).toBe(false);
  });

  it('direct-streamlocal connects to a Unix socket', async () => {
    const path = join(dir, 'echo.sock');
    const unix = await unixEchoServer(path);
    try {
      const { channel, confirmed } = await client.open({ type: 'direct-streamlocal@openssh.com', socketPath: path });
      expect(confirmed).toBe(true);
      client.write(channel, 'unix hello');
      client.eof(channel);
      await client.closed(channel);
      expect(text(client.channels.get(channel)!.stdout)).toBe('unix hello');
      const missing = await client.open({ type: 'direct-streamlocal@openssh.com', socketPath: join(dir, 'missing.sock') });
      expect(missing).toMatchObject({ confirmed: false, reason: 2, description: 'No such file or directory' });
    } finally {
      unix.close();
    }
  });

  it('streamlocal-forward listens on a Unix socket (mode 0600) until cancelled', async () => {
    const path = join(dir, 'remote.sock');
    expect((await client.global({ type: 'streamlocal-forward@openssh.com', socketPath: path })).success).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const back = await roundTrip(await dial({ path }), Buffer.from('over a unix socket'));
    expect(back.toString()).toBe('over a unix socket');
    expect(client.forwardedOpens.at(-1)!.request).toEqual({ type: 'forwarded-streamlocal@openssh.com', socketPath: path });
    // The path is taken now: a second listener on it is refused.
    expect((await client.global({ type: 'streamlocal-forward@openssh.com', socketPath: path })).success).toBe(false);
    expect((await client.global({ type: 'cancel-streamlocal-forward@openssh.com', socketPath: path })).success).toBe(true);
    await expect(dial({ path })).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });

  it('closes remote listeners when the connection ends', async () => {
    const c = await TestClient.connect(server.port);
    const reply = await c.global({ type: 'tcpip-forward', address: 'localhost', port: 0 });
    expect(reply.success).toBe(true);
    const path = join(dir, 'gone.sock');
    expect((await c.global({ type: 'streamlocal-forward@openssh.com', socketPath: path })).success).toBe(true);
    await c.close();
    await new Promise((r) => setTimeout(r, 200));
    await expect(dial({ port: reply.port!, host: '127.0.0.1' })).rejects.toThrow(/ECONNREFUSED/);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses everything when port forwarding is disabled', async () => {
    const off = await startServer({ allowPortForwarding: false });
    const c = await TestClient.connect(off.port);
    try {
      expect(await c.open({ type: 'direct-tcpip', host: '127.0.0.1', port: echo.port, originatorAddress: '127.0.0.1', originatorPort: 1 })).toMatchObject({ confirmed: false, reason: 1 });
      expect((await c.global({ type: 'tcpip-forward', address: 'localhost', port: 0 })).success).toBe(false);
      const r = await c.exec('echo sessions still work');
      expect(text(r.stdout)).toBe('sessions still work\n');
    } finally {
      await c.close();
      await off.close();
    }
  });
});

describe('serve() refusing channel types (RFC 4254 5.1)', () => {
  it('an unknown type gets UNKNOWN_CHANNEL_TYPE (3), a known one it does not offer ADMINISTRATIVELY_PROHIBITED (1)', async () => {
    const running = await serve({
      host: '127.0.0.1',
      port: 0,
      hostKeys: [hostKey],
      auth: {
        connection: () => ({
          decide: (d: Decision) => {
            if (d.kind === 'authMethods') return [['publickey']];
            if (d.kind === 'authPublicKey') return d.key.blob.length === clientKey.publicKey.blob.length && d.key.blob.every((b, i) => b === clientKey.publicKey.blob[i]);
            return false;
          },
        }),
      },
    });
    const c = await TestClient.connect(running.port);
    try {
      expect(await c.open({ type: 'other', name: 'foo@example.com', data: new Uint8Array([0, 0, 0, 1, 0x41]) })).toMatchObject({ confirmed: false, reason: 3, description: 'unknown channel type foo@example.com' });
      expect(await c.open({ type: 'x11', originatorAddress: '127.0.0.1', originatorPort: 6010 })).toMatchObject({ confirmed: false, reason: 1 });
      expect(await c.open({ type: 'auth-agent@openssh.com' })).toMatchObject({ confirmed: false, reason: 1 });
      // Refusals leave the connection usable.
      const r = await c.exec('echo still here');
      expect(text(r.stdout)).toBe('still here\n');
    } finally {
      await c.close();
      await running.close();
    }
  });
});
