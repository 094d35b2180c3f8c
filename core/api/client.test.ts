/**
 * The client API on the in-memory runtime: a scripted server engine on virtual time, no sockets.
 */
import { describe, expect, it } from 'vitest';
import { SshEngine } from '../engine.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { publicKeysEqual } from '../keys/public-key.ts';
import { generatePrivateKey, serializeOpenSshPrivateKey } from '../keys/private-key.ts';
import { formatPublicKeyLine } from '../keys/format.ts';
import { formatCertificateLine, signCertificate } from '../keys/certificate.ts';
import { seededRandom } from '../random.ts';
import { MemoryNetwork, MemoryRuntime, type MemoryStream } from '../testing/memory-runtime.ts';
import {
  SCRIPTED_ALGORITHMS as FAST,
  scriptedHostKey as hostKey,
  scriptedOtherKey as otherKey,
  scriptedUserKey as userKey,
  serveOne,
  startServer,
  type ServerLog,
} from '../testing/scripted-server.ts';
import { ConnectionDriver } from './driver.ts';
import { connect, type ClientOptions } from './client.ts';
import { ChannelOpenError, ChannelRequestError, ConnectionClosedError, ProcessError, TimeoutError, AbortError } from './errors.ts';
import type { ByteStream } from './runtime.ts';

function setup(): { client: MemoryRuntime; server: MemoryRuntime; log: ServerLog; options: ClientOptions } {
  const network = new MemoryNetwork();
  const client = new MemoryRuntime({ network });
  const server = new MemoryRuntime({ network });
  const log = startServer(server);
  const options: ClientOptions = { host: 'server', port: 22, username: 'alice', privateKeys: [userKey], hostKey: () => true, algorithms: FAST };
  return { client, server, log, options };
}

describe('core/api client on the in-memory runtime', () => {
  it('run collects text, exit status and stderr; check throws a ProcessError with the result', async () => {
    const { client, options } = setup();
    const conn = await connect(client, options);
    const echo = await conn.run('echo hello world');
    expect(echo).toEqual({ stdout: 'hello world\n', stderr: '', exitStatus: 0, exitSignal: null });
    const failed = await conn.run('fail');
    expect(failed.exitStatus).toBe(3);
    expect(failed.stderr).toBe('it failed\n');
    const error = await conn.run('fail', { check: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessError);
    expect((error as ProcessError).result.stderr).toBe('it failed\n');
    expect((error as ProcessError).message).toContain('exited with status 3');
    const bytes = await conn.run('echo x', { encoding: null });
    expect(bytes.stdout).toEqual(new TextEncoder().encode('x\n'));
    await conn.close();
    await conn.close(); // idempotent
  });

  it('input is fed to stdin (string, bytes, async iterable), output comes back whole', async () => {
    const { client, options } = setup();
    const conn = await connect(client, options);
    expect((await conn.run('cat', { input: 'abc' })).stdout).toBe('abc');
    async function* parts(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < 40; i++) yield new Uint8Array(10_000).fill(48 + (i % 10));
    }
    const out = await conn.run('cat', { input: parts(), encoding: null });
    expect(out.stdout.length).toBe(400_000);
    expect(out.stdout[10_000]).toBe(49);
    await conn.close();
  });

  it('a refused exec rejects with ChannelRequestError; a refused direct-tcpip with ChannelOpenError', async () => {
    const { client, options } = setup();
    const conn = await connect(client, options);
    await expect(conn.run('refuse')).rejects.toBeInstanceOf(ChannelRequestError);
    await expect(conn.openDirectTcpip('elsewhere', 80)).rejects.toBeInstanceOf(ChannelOpenError);
    await expect(conn.subsystem('nope').exit).rejects.toThrow(/subsystem.*nope/);
    await conn.close();
  });

  it('spawn streams: env, pty, resize, signal, break, exit by signal', async () => {
    const { client, options, log } = setup();
    const conn = await connect(client, options);
    const proc = conn.spawn('hold-forever', { env: { LANG: 'C' }, pty: { cols: 100, rows: 30 } });
    await proc.started;
    proc.resize(120, 40);
    expect(await proc.break(200)).toBe(true);
    proc.signal('SIGTERM');
    expect(() => proc.signal('bad name')).toThrow(/not a signal name/);
    const exit = await proc.exit;
    expect(exit.exitSignal?.signal).toBe('TERM');
    expect(exit.exitStatus).toBeNull();
    expect(log.env).toEqual({ LANG: 'C' });
    expect(log.sizes).toEqual([[120, 40]]);
    expect(log.requests).toEqual(['pty-req', 'exec', 'break']);
    await conn.close();
  });

  it('shell and subsystem run over the same session machinery', async () => {
    const { client, options, log } = setup();
    const conn = await connect(client, options);
    const shell = conn.shell();
    await shell.stdin.write('ls\n');
    await shell.stdin.end();
    const chunks: string[] = [];
    for await (const c of shell.stdout) chunks.push(new TextDecoder().decode(c));
    expect(chunks.join('')).toBe('ls\n');
    expect((await shell.exit).exitStatus).toBe(0);
    expect(log.requests.slice(0, 2)).toEqual(['pty-req', 'shell']);
    const sub = conn.subsystem('echo-sub');
    await sub.stdin.write('ping');
    await sub.stdin.end();
    expect(new TextDecoder().decode((await sub.stdout.read())!)).toBe('ping');
    await conn.close();
  });

  it('the window reopens only as the consumer reads: a reader that stops holds the sender', async () => {
    const { client, options, log } = setup();
    const conn = await connect(client, { ...options, channelWindow: 256 * 1024 });
    const proc = conn.spawn('hold');
    await proc.started;
    await client.advance(10);
    // The server may send one window (256 KiB) and buffer up to its own high water; nothing more.
    const sentBefore = log.held;
    expect(proc.stdout.bufferedAmount).toBeLessThanOrEqual(256 * 1024);
    await client.advance(10);
    expect(log.held).toBe(sentBefore);
    // Read 1 MiB: the sender moves on by about as much.
    let got = 0;
    while (got < 1024 * 1024) got += (await proc.stdout.read())!.length;
    await client.advance(10);
    expect(log.held).toBeGreaterThan(sentBefore + 512 * 1024);
    expect(log.held).toBeLessThan(sentBefore + 2 * 1024 * 1024);
    await conn.close();
  });

  it('direct-tcpip channel as a byte pipe; close is idempotent even after the peer closed', async () => {
    const { client, options } = setup();
    const conn = await connect(client, options);
    const ch = await conn.openDirectTcpip('echo', 7);
    await ch.writer.write('round trip');
    expect(new TextDecoder().decode((await ch.reader.read())!)).toBe('round trip');
    await ch.writer.end();
    expect(await ch.reader.read()).toBeNull();
    await ch.closed;
    await ch.close();
    await ch.close();
    await conn.close();
  });

  it('password, keyboard-interactive and a host key callback that refuses', async () => {
    const { client, options } = setup();
    const byPassword = await connect(client, { ...options, privateKeys: [otherKey], password: 'pw' });
    expect((await byPassword.run('echo p')).stdout).toBe('p\n');
    await byPassword.close();
    const prompts: string[] = [];
    const byKbd = await connect(client, {
      ...options,
      privateKeys: [],
      keyboardInteractive: (c) => (prompts.push(...c.prompts.map((p) => p.prompt)), ['1234']),
    });
    expect(prompts).toEqual(['Code: ']);
    await byKbd.close();
    await expect(connect(client, { ...options, privateKeys: [otherKey], password: 'wrong' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(connect(client, { ...options, hostKey: () => false })).rejects.toMatchObject({ code: 'HOST_KEY_REJECTED' });
  });

  it('a host key policy object: its explanation is the rejection, its algorithm order is applied', async () => {
    const { client, options } = setup();
    const why = new Error('Host key for server has changed: SHA256:… (known_hosts:3); remove the line with ssh-keygen -R server');
    await expect(connect(client, { ...options, hostKey: { verify: () => Promise.reject(why) } })).rejects.toBe(why);
    let asked = 0;
    const conn = await connect(client, {
      ...options,
      hostKey: { verify: async () => void asked++, preferredHostKeyAlgorithms: () => '^ssh-ed25519' },
    });
    expect(asked).toBe(1);
    expect(conn.algorithms?.hostKey).toBe('ssh-ed25519');
    await conn.close();
  });

  it('log records what ssh -v shows', async () => {
    const { client, options } = setup();
    const records: string[] = [];
    const conn = await connect(client, { ...options, log: (r) => records.push(`${r.event}: ${r.message}`) });
    await conn.close();
    expect(records[0]).toBe('connect: Connecting to server port 22.');
    expect(records.some((r) => r.startsWith('version: Remote software version SSH-2.0-'))).toBe(true);
    expect(records.some((r) => r.startsWith('kex: kex: curve25519-sha256, host key ssh-ed25519, cipher chacha20-poly1305@openssh.com'))).toBe(true);
    expect(records.some((r) => r.startsWith('hostKey: Server host key: ssh-ed25519 SHA256:'))).toBe(true);
    expect(records).toContain('authenticated: Authenticated to server using "publickey".');
  });

  it('dial failures, login timeouts and aborts reject with typed errors', async () => {
    const { client, options } = setup();
    await expect(connect(client, { ...options, host: 'nowhere' })).rejects.toMatchObject({ code: 'ECONNREFUSED', message: 'cannot connect to nowhere port 22: connection refused' });
    const network = client.network;
    const silent = new MemoryRuntime({ network });
    startServer(silent, 'silent:22', { loginSilently: true });
    const timing = connect(client, { ...options, host: 'silent', loginTimeout: 5_000 });
    const caught = timing.catch((e: unknown) => e);
    await client.advance(5_001);
    expect(await caught).toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    const aborted = connect(client, { ...options, host: 'silent', signal: controller.signal }).catch((e: unknown) => e);
    await client.advance(1);
    controller.abort();
    expect(await aborted).toBeInstanceOf(AbortError);
    await expect(connect(client, { ...options, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });

  it('operations after the connection is lost reject with ConnectionClosedError; output cut short is an error', async () => {
    const { client, options, server } = setup();
    let serverEnd: MemoryStream | null = null;
    const network = client.network;
    network.listeners.delete('server:22');
    await server.listenTcp('server', 22, (s) => {
      serverEnd = s as MemoryStream;
      serveOne(server, s, { requests: [], signals: [], sizes: [], env: {}, connections: 0, held: 0, globals: [], live: [], auth: [] }, {});
    });
    const conn = await connect(client, options);
    const proc = conn.spawn('hold');
    await proc.stdout.read();
    serverEnd!.reset();
    await client.advance(1);
    await expect(proc.exit).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect((async () => { for (;;) if ((await proc.stdout.read()) === null) return 'ended'; })()).rejects.toMatchObject({ lost: true });
    expect(() => conn.spawn('echo')).toThrow(ConnectionClosedError);
    expect(conn.isOpen).toBe(false);
    await conn.close();
  });

  it('jump: each hop runs over a direct-tcpip channel of the one before', async () => {
    const network = new MemoryNetwork();
    const client = new MemoryRuntime({ network });
    const server = new MemoryRuntime({ network });
    const target = startServer(server, 'target:22');
    const hops = { hop1: 0, hop2: 0 };
    for (const name of ['hop1', 'hop2'] as const) await server.listenTcp(name, 22, (stream) => (hops[name]++, relay(server, stream)));
    const base: ClientOptions = { host: 'x', username: 'alice', privateKeys: [userKey], hostKey: () => true, algorithms: FAST };
    const conn = await connect(client, { ...base, host: 'target', jump: [{ ...base, host: 'hop1' }, { ...base, host: 'hop2' }] });
    expect((await conn.run('echo through')).stdout).toBe('through\n');
    expect([hops.hop1, hops.hop2, target.connections]).toEqual([1, 1, 1]);
    await conn.close();
    // A hop that refuses the next one fails the whole connect with its reason.
    await expect(connect(client, { ...base, host: 'nowhere', jump: [{ ...base, host: 'hop1' }] })).rejects.toBeInstanceOf(ChannelOpenError);
  });
});

/** A server that authenticates like the scripted one, counts it, and forwards direct-tcpip to the in-memory network. */
function relay(runtime: MemoryRuntime, stream: ByteStream): void {
  const engine = new SshEngine({ role: 'server', now: runtime.now(), crypto: pureCrypto, hostKeys: [hostKey], algorithms: FAST });
  const targets = new Map<number, ByteStream>();
  const driver: ConnectionDriver = new ConnectionDriver(engine, stream, runtime, {
    onDecision: async (d) => {
      if (d.kind === 'authMethods') return [['publickey']];
      if (d.kind === 'authPublicKey') return publicKeysEqual(d.key, userKey.publicKey);
      if (d.kind === 'channelOpen' && d.request.type === 'direct-tcpip') {
        const target = await runtime.connectTcp(d.request.host, d.request.port).catch(() => null);
        if (!target) return { reason: 2, description: 'connect failed' };
        targets.set(d.channel, target);
        // The target speaks first; hold its bytes until our confirmation has gone out.
        const pending: Uint8Array[] = [];
        const flush = (): void => {
          if (engine.channelInfo(d.channel).phase.stage !== 'open') return void queueMicrotask(flush);
          for (const bytes of pending.splice(0)) driver.command((e, now) => e.write(d.channel, bytes, now));
        };
        target.start({
          data: (bytes) => (pending.push(bytes), flush()),
          end: () => driver.command((e, now) => e.eof(d.channel, now)),
          close: () => driver.command((e, now) => e.close(d.channel, now)),
          drain: () => {},
        });
        return true;
      }
      return false;
    },
    onEvent: (e) => {
      if (e.type === 'channelData') {
        targets.get(e.channel)?.write(e.data);
        driver.command((en, now) => en.consumed(e.channel, e.data.length, now));
      } else if (e.type === 'channelEof') targets.get(e.channel)?.end();
    },
  });
}

describe('core/api client: keys from files', () => {
  const encrypted = serializeOpenSshPrivateKey(userKey, seededRandom('enc'), { passphrase: 'sesame', rounds: 2 });
  const plain = serializeOpenSshPrivateKey(userKey, seededRandom('plain'));
  const pub = `${formatPublicKeyLine(userKey.publicKey, 'alice')}\n`;

  function withFiles(files: Record<string, string>) {
    const network = new MemoryNetwork();
    const client = new MemoryRuntime({ network, files, homeDir: '/home/alice' });
    const server = new MemoryRuntime({ network });
    startServer(server);
    return { client, base: { host: 'server', username: 'alice', hostKey: () => true, algorithms: FAST } satisfies ClientOptions };
  }

  it('a key file path (with ~/) is read and offered', async () => {
    const { client, base } = withFiles({ '/home/alice/.ssh/id_ed25519': plain });
    const conn = await connect(client, { ...base, privateKeys: ['~/.ssh/id_ed25519'] });
    expect((await conn.run('echo file key')).stdout).toBe('file key\n');
    await conn.close();
  });

  it('an encrypted key is decrypted with the passphrase callback only once the server would take it', async () => {
    const { client, base } = withFiles({ '/k/enc': encrypted, '/k/enc.pub': pub, '/k/other': serializeOpenSshPrivateKey(otherKey, seededRandom('o')) });
    const asked: string[] = [];
    const conn = await connect(client, {
      ...base,
      privateKeys: ['/k/other', '/k/enc'],
      passphrase: (path, attempt) => (asked.push(`${path}#${attempt}`), attempt === 1 ? 'wrong' : 'sesame'),
    });
    expect(asked).toEqual(['/k/enc#1', '/k/enc#2']);
    await conn.close();
    const warnings: string[] = [];
    await expect(
      connect(client, { ...base, privateKeys: ['/k/enc'], passphrase: () => null, log: (r) => r.level === 'warn' && warnings.push(r.message) }),
    ).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const missing = await connect(client, { ...base, privateKeys: ['/k/nope', '/k/enc'], passphrase: 'sesame', log: (r) => r.level === 'warn' && warnings.push(r.message) });
    await missing.close();
    expect(warnings).toContain('Warning: Identity file /k/nope not accessible: No such file or directory.');
  });

  it('agent: true without SSH_AUTH_SOCK is refused with the fix', async () => {
    const { client, base } = withFiles({});
    await expect(connect(client, { ...base, agent: true })).rejects.toThrow(/SSH_AUTH_SOCK is not set/);
  });
});

describe('core/api client: ssh_config', () => {
  const plain = serializeOpenSshPrivateKey(userKey, seededRandom('plain'));
  const config = ['Host web', '  HostName server', '  User alice', '  IdentityFile ~/.ssh/id_web', '  UserKnownHostsFile ~/.ssh/kh', '  StrictHostKeyChecking yes', '  Ciphers aes128-ctr', ''].join('\n');

  function withConfig(knownKey: typeof hostKey) {
    const network = new MemoryNetwork();
    const client = new MemoryRuntime({
      network,
      homeDir: '/home/alice',
      userName: 'someone-else',
      files: {
        '/home/alice/.ssh/config': config,
        '/home/alice/.ssh/id_web': plain,
        '/home/alice/.ssh/kh': `server ${formatPublicKeyLine(knownKey.publicKey)}\n`,
      },
    });
    const server = new MemoryRuntime({ network });
    startServer(server);
    return client;
  }

  it('an alias resolves to HostName, User, IdentityFile, the cipher list and a known_hosts policy', async () => {
    const client = withConfig(hostKey);
    const records: string[] = [];
    const conn = await connect(client, { host: 'web', config: true, log: (r) => records.push(r.message) });
    expect((await conn.run('echo via config')).stdout).toBe('via config\n');
    expect(conn.algorithms?.cipherClientToServer).toBe('aes128-ctr');
    expect(records[0]).toContain('web is server port 22');
    await conn.close();
  });

  it('the known_hosts policy from the configuration refuses a different key with its explanation', async () => {
    const client = withConfig(otherKey);
    const error = await connect(client, { host: 'web', config: true }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('HostKeyVerificationError');
    expect((error as Error).message).toContain('/home/alice/.ssh/kh:1');
  });

  it('explicit options win over the file; without hostKey or config connect refuses to guess', async () => {
    const client = withConfig(otherKey);
    const conn = await connect(client, { host: 'web', config: true, hostKey: () => true, algorithms: { cipher: 'chacha20-poly1305@openssh.com' } });
    expect(conn.algorithms?.cipherClientToServer).toBe('chacha20-poly1305@openssh.com');
    await conn.close();
    await expect(connect(client, { host: 'server', username: 'alice' })).rejects.toThrow(/hostKey is required/);
  });
});

describe('core/api client: forwards from options and ssh_config', () => {
  it('LocalForward from the configuration is listening once connect resolves; ExitOnForwardFailure fails connect', async () => {
    const network = new MemoryNetwork();
    const plain = serializeOpenSshPrivateKey(userKey, seededRandom('plain'));
    const text = ['Host web', '  HostName server', '  User alice', '  IdentityFile /k/id', '  LocalForward 127.0.0.1:7001 echo:7', ''].join('\n');
    const client = new MemoryRuntime({ network, files: { '/k/id': plain } });
    startServer(new MemoryRuntime({ network }));
    const conn = await connect(client, { host: 'web', config: { text }, hostKey: () => true });
    expect(conn.forwards.map((f) => f.address)).toEqual([{ host: '127.0.0.1', port: 7001 }]);
    const stream = await client.connectTcp('127.0.0.1', 7001);
    const got: string[] = [];
    stream.start({ data: (b) => void got.push(new TextDecoder().decode(b)), end: () => {}, close: () => {}, drain: () => {} });
    stream.write(new TextEncoder().encode('through the config forward'));
    await client.advance(5);
    expect(got.join('')).toBe('through the config forward');
    // The port is taken now: a second connection asking for it fails only with ExitOnForwardFailure.
    const warnings: string[] = [];
    const second = await connect(client, { host: 'web', config: { text }, hostKey: () => true, log: (r) => r.level === 'warn' && warnings.push(r.message) });
    expect(second.forwards).toEqual([]);
    expect(warnings[0]).toMatch(/local forward could not be started/);
    await second.close();
    await expect(connect(client, { host: 'web', config: { text: `${text}  ExitOnForwardFailure yes\n` }, hostKey: () => true })).rejects.toThrow(/ExitOnForwardFailure/);
    await conn.close();
    await expect(client.connectTcp('127.0.0.1', 7001)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('core/api client: certificates and the authentication settings of ssh_config', () => {
  const ca = generatePrivateKey('ed25519', seededRandom('api user ca'), pureCrypto);
  const certify = (keyId: string, key = userKey, certType: 'user' | 'host' = 'user') =>
    signCertificate(pureCrypto, ca, { publicKey: key.publicKey, certType, keyId, principals: ['alice'] });
  const certLine = (keyId: string, key = userKey) => `${formatCertificateLine(certify(keyId, key), keyId)}\n`;
  const plain = serializeOpenSshPrivateKey(userKey, seededRandom('plain'));

  function world(files: Record<string, string> = {}) {
    const network = new MemoryNetwork();
    const client = new MemoryRuntime({ network, files, homeDir: '/home/alice' });
    const log = startServer(new MemoryRuntime({ network }));
    return { client, log, base: { host: 'server', username: 'alice', hostKey: () => true, algorithms: FAST } satisfies ClientOptions };
  }

  it('a certificate given as an object, a blob or a line is offered first for the key object it certifies', async () => {
    for (const given of [certify('as-object'), certify('as-blob').blob, certLine('as-line')]) {
      const { client, log, base } = world();
      const conn = await connect(client, { ...base, privateKeys: [userKey], certificates: [given] });
      const id = typeof given === 'string' ? 'as-line' : given instanceof Uint8Array ? 'as-blob' : 'as-object';
      expect(log.auth[0]).toBe(`publickey cert ${id} query`);
      expect(log.auth).toContain(`publickey cert ${id} signed`);
      expect(log.auth).not.toContain('publickey key query');
      await conn.close();
    }
  });

  it('CertificateFile from ssh_config pairs with the IdentityFile key; a certificate for no key we hold, or a host certificate, is skipped with a warning', async () => {
    const text = ['Host web', '  HostName server', '  User alice', '  IdentityFile /k/id', '  CertificateFile /k/other-cert.pub', '  CertificateFile /k/host-cert.pub', '  CertificateFile /k/id-cert-by-config.pub', ''].join('\n');
    const { client, log } = world({
      '/k/id': plain,
      '/k/id-cert-by-config.pub': certLine('by-config'),
      '/k/other-cert.pub': certLine('for-other', otherKey),
      '/k/host-cert.pub': `${formatCertificateLine(certify('a-host', userKey, 'host'))}\n`,
    });
    const warnings: string[] = [];
    const conn = await connect(client, { host: 'web', config: { text }, hostKey: () => true, algorithms: FAST, log: (r) => r.level === 'warn' && warnings.push(r.message) });
    expect(log.auth[0]).toBe('publickey cert by-config query');
    expect(log.auth).toContain('publickey cert by-config signed');
    expect(warnings.some((w) => /other-cert\.pub.*none of the keys given holds the key it certifies/.test(w)), warnings.join('\n')).toBe(true);
    expect(warnings.some((w) => /host-cert\.pub.*host certificate/.test(w)), warnings.join('\n')).toBe(true);
    expect(warnings.some((w) => /CertificateFile/.test(w) && /not applied/.test(w))).toBe(false);
    await conn.close();
  });

  it('a missing certificate file is reported with its path and login goes on with the key', async () => {
    const { client, log, base } = world({ '/k/id': plain });
    const warnings: string[] = [];
    const conn = await connect(client, { ...base, privateKeys: ['/k/id'], certificates: ['/k/nope-cert.pub'], log: (r) => r.level === 'warn' && warnings.push(r.message) });
    expect(warnings.join('\n')).toMatch(/cannot read certificate file \/k\/nope-cert\.pub: it does not exist/);
    expect(log.auth).toContain('publickey key signed');
    await conn.close();
  });

  it('PreferredAuthentications orders the methods and leaves out the others', async () => {
    const { client, log, base } = world();
    const conn = await connect(client, { ...base, privateKeys: [otherKey], password: 'pw', keyboardInteractive: () => ['0000'], preferredAuthentications: ['password', 'publickey'] });
    expect(log.auth).toEqual(['password']);
    await conn.close();
    const again = world();
    await expect(connect(again.client, { ...again.base, privateKeys: [otherKey], password: 'wrong', keyboardInteractive: () => ['1234'], preferredAuthentications: ['publickey', 'password'] })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(again.log.auth).toEqual(['publickey key query', 'password']);
  });

  it('BatchMode: the password and keyboard-interactive callbacks are not asked; a stored password still is', async () => {
    const { client, log, base } = world();
    let asked = 0;
    const ask = () => (asked++, 'pw');
    await expect(connect(client, { ...base, password: ask, keyboardInteractive: () => (asked++, ['1234']), batchMode: true })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(asked).toBe(0);
    expect(log.auth).toEqual([]);
    const conn = await connect(client, { ...base, password: 'pw', batchMode: true });
    expect(log.auth).toEqual(['password']);
    await conn.close();
  });

  it('PubkeyAcceptedAlgorithms with - keeps a key type from being offered; an unknown name is refused with the list', async () => {
    const { client, log, base } = world();
    await expect(connect(client, { ...base, privateKeys: [userKey], pubkeyAcceptedAlgorithms: '-ssh-ed25519*' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(log.auth).toEqual([]);
    await expect(connect(client, { ...base, privateKeys: [userKey], pubkeyAcceptedAlgorithms: 'ssh-nope' })).rejects.toThrow(/unsupported algorithm "ssh-nope"; supported:/);
  });
});
