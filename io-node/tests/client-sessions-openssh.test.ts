/**
 * The Node client (io-node/streams/client.ts) against a real OpenSSH sshd, logged in as a real user with
 * /bin/sh: exec with stdout/stderr/exit status and exit signals, env, pty, subsystems, signals,
 * streaming stdin, backpressure in both directions, typed open/request failures, and bulk data —
 * 1 GiB each way with both sides re-keying every 64 MiB, 100 concurrent channels of 10 MiB each,
 * and a 1 KiB receive window — every byte checked by SHA-256 on both ends.
 */
import { createCipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatPublicKeyLine, type HostKeyDecision, type PrivateKey, SshError } from '../../core/index.ts';
import { ChannelOpenError, ChannelRequestError, ConnectionClosedError, connect, type ConnectOptions, type SshClient } from '../streams/client.ts';
import { generateHostKey } from '../trust/keys.ts';
import { failEachTestWithoutOpenSsh, keyForAlgorithm, makeHostKeys, run, startSshd, tempDir, type HostKeyFiles, type Sshd } from './openssh.ts';

const USER = 'hermit-test';
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const haveOpenSsh = failEachTestWithoutOpenSsh();

let keys: HostKeyFiles;
let dir: string;
let dataDir: string;
let userKey: PrivateKey;
let sshd: Sshd;
let client: SshClient;

/**
 * The login user: sshd needs a real account. Created when absent (root only), with /bin/sh so no
 * slow shell start-up files run, and with password field `*` (no password, but not locked: with
 * UsePAM no, sshd refuses locked accounts even for public keys).
 */
async function ensureTestUser(): Promise<{ uid: number; gid: number }> {
  const existing = await run('id', ['-u', USER]);
  if (existing.code !== 0) {
    if (process.getuid?.() !== 0) throw new Error(`user ${USER} does not exist and only root can create it (useradd -m -s /bin/sh -p '*' ${USER})`);
    const made = await run('useradd', ['-m', '-s', '/bin/sh', '-p', '*', USER]);
    // Exit 9: another test file created it at the same moment.
    if (made.code !== 0 && made.code !== 9) throw new Error(`useradd ${USER} failed: ${made.stderr}`);
  }
  const entry = (await run('getent', ['passwd', USER])).stdout.trim().split(':');
  if (entry[6] !== '/bin/sh') throw new Error(`user ${USER} has shell ${entry[6]}; these tests need /bin/sh (usermod -s /bin/sh ${USER})`);
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** Accept exactly the host key sshd was configured with, for whichever algorithm was negotiated. */
function hostKeyCheck(decision: HostKeyDecision): boolean {
  const name = keyForAlgorithm[decision.algorithm];
  return name !== undefined && decision.fingerprint === keys.fingerprints[name];
}

function options(extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { host: '127.0.0.1', port: sshd.port, username: USER, privateKeys: [userKey], hostKey: hostKeyCheck, ...extra };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

/** Incompressible test data, cheaply: AES-CTR keystream under a random key, in chunks. */
function* pseudoRandom(total: number, chunk = MiB): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(chunk);
  for (let sent = 0; sent < total; sent += chunk) {
    const n = Math.min(chunk, total - sent);
    yield cipher.update(n === chunk ? zeros : zeros.subarray(0, n));
  }
}

/** Write `total` pseudo-random bytes into `stream` respecting its backpressure; returns their SHA-256. */
async function feed(stream: Writable, total: number, chunk = MiB): Promise<string> {
  const hash = createHash('sha256');
  for (const data of pseudoRandom(total, chunk)) {
    hash.update(data);
    if (!stream.write(data)) await once(stream, 'drain');
  }
  stream.end();
  return hash.digest('hex');
}

/** Read `stream` to its end: byte count and SHA-256. */
async function digest(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);

/** Why the shared set-up failed: every test fails with it (a throwing beforeAll alone would report them as skipped). */
let setupError: unknown = null;

beforeAll(async () => {
  if (!haveOpenSsh) return;
  try {
    await setUp();
  } catch (err) {
    setupError = err;
  }
}, 120_000);

beforeEach(() => {
  if (setupError) throw setupError;
});

async function setUp(): Promise<void> {
  const { uid, gid } = await ensureTestUser();
  keys = await makeHostKeys();
  dir = await tempDir('client-sessions');
  // sshd reads authorized keys as the user, so the directory must be traversable and the file readable.
  await chmod(dir, 0o755);
  userKey = generateHostKey('ed25519');
  await writeFile(join(dir, `${USER}_keys`), formatPublicKeyLine(userKey.publicKey) + '\n', { mode: 0o644 });
  dataDir = join(dir, 'data');
  await mkdir(dataDir);
  await chown(dataDir, uid, gid);
  sshd = await startSshd({
    keys,
    extra: [
      'MaxSessions 200',
      'RekeyLimit 64M',
      'AcceptEnv HERMIT_*',
      'Subsystem hermit-echo /bin/cat',
      // The harness names its own AuthorizedKeysFile first, and sshd keeps a keyword's first value;
      // a Match block is applied afterwards and overrides it.
      'Match All',
      `AuthorizedKeysFile ${dir}/%u_keys`,
    ],
  });
  client = await connect(options());
}

afterAll(async () => {
  await client?.close();
  await sshd?.stop();
  // The data directory holds the 1 GiB file.
  if (dir) await rm(dir, { recursive: true, force: true });
  if (keys) await rm(keys.dir, { recursive: true, force: true });
});

describe('connect', () => {
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e,
    );

  it('rejects with the engine typed error when the host key is refused, before any credential', async () => {
    const error = await failure(connect(options({ hostKey: () => false })));
    expect(error).toBeInstanceOf(SshError);
    expect(error).toMatchObject({ code: 'HOST_KEY_REJECTED' });
  });

  it('rejects with AUTH_FAILED for a key or a password the server does not take', async () => {
    const stranger = generateHostKey('ed25519');
    expect(await failure(connect(options({ privateKeys: [stranger] })))).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await failure(connect(options({ privateKeys: [], password: 'not the password' })))).toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('closes on `await using` and ends running commands with ConnectionClosedError', async () => {
    let outer: SshClient;
    let proc: ReturnType<SshClient['spawn']>;
    {
      await using c = await connect(options());
      outer = c;
      proc = c.spawn('cat');
      // Wait until the command runs, so the close interrupts it rather than its start.
      expect(text((await c.exec('echo up')).stdout)).toBe('up\n');
    }
    expect(await outer.closed).toBeNull();
    const error = await failure(proc.exit);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as ConnectionClosedError).lost).toBe(false);
    // We closed it ourselves: the output just ends, no 'error' event.
    expect(await digest(proc.stdout)).toMatchObject({ bytes: 0 });
    expect(() => outer.spawn('true')).toThrow(ConnectionClosedError);
  });
});

describe('exec', () => {
  it('collects stdout, stderr and the exit status', async () => {
    const r = await client.exec('echo out; echo err >&2; exit 3');
    expect(text(r.stdout)).toBe('out\n');
    expect(text(r.stderr)).toBe('err\n');
    expect(r.exitStatus).toBe(3);
    expect(r.exitSignal).toBeNull();
  });

  it('reports death by a signal as exit-signal', async () => {
    const r = await client.exec('echo before; kill -TERM $$; echo after');
    expect(text(r.stdout)).toBe('before\n');
    expect(r.exitStatus).toBeNull();
    expect(r.exitSignal).toMatchObject({ signal: 'TERM', coreDumped: false });
  });

  it('passes environment variables that AcceptEnv lets through, and sshd drops the others silently', async () => {
    const r = await client.exec('echo "$HERMIT_X|$HERMIT_EMPTY|${NOT_ACCEPTED-unset}"', { env: { HERMIT_X: 'hello world', HERMIT_EMPTY: '', NOT_ACCEPTED: 'x' } });
    expect(text(r.stdout)).toBe('hello world||unset\n');
    expect(r.exitStatus).toBe(0);
  });

  it('feeds stdin from bytes and from a Readable', async () => {
    const bytes = await client.exec('wc -c; sha256sum', { stdin: new Uint8Array(0) });
    expect(text(bytes.stdout)).toContain('0\n');
    const input = randomBytes(300_000);
    const fromBuffer = await client.exec('sha256sum', { stdin: input });
    expect(text(fromBuffer.stdout).split(' ')[0]).toBe(createHash('sha256').update(input).digest('hex'));
    const { Readable } = await import('node:stream');
    const fromStream = await client.exec('cat', { stdin: Readable.from([input.subarray(0, 1000), input.subarray(1000)]) });
    expect(Buffer.from(fromStream.stdout).equals(input)).toBe(true);
    // A source that fails ends the command instead of leaving it waiting for more input.
    const broken = new Readable({ read() {} });
    broken.push('partial');
    setTimeout(() => broken.destroy(new Error('source broke')), 50);
    await expect(client.exec('cat')).resolves.toMatchObject({ exitStatus: 0 });
    await expect(client.exec('cat', { stdin: broken })).rejects.toThrow('source broke');
  });

  it('allocates a pseudo-terminal of the size asked for', async () => {
    const r = await client.exec('tty; stty size; echo "$TERM"', { pty: { term: 'vt100', cols: 123, rows: 45 } });
    // A pty turns \n into \r\n and merges stderr into stdout.
    const lines = text(r.stdout).split('\r\n');
    expect(lines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines[1]).toBe('45 123');
    expect(lines[2]).toBe('vt100');
    expect(r.exitStatus).toBe(0);
    const none = await client.exec('tty');
    expect(text(none.stdout)).toBe('not a tty\n');
    expect(none.exitStatus).toBe(1);
  });
});

describe('spawn', () => {
  it('runs a subsystem: bytes sent to hermit-echo (/bin/cat) come back', async () => {
    const proc = client.spawn('hermit-echo', { subsystem: true });
    const payload = randomBytes(100_000);
    const back = digest(proc.stdout);
    proc.stdin.end(payload);
    expect(await back).toEqual({ bytes: payload.length, sha256: createHash('sha256').update(payload).digest('hex') });
    expect(await proc.exit).toEqual({ exitStatus: 0, exitSignal: null });
  });

  it('refuses an unknown subsystem with a ChannelRequestError', async () => {
    const proc = client.spawn('no-such-subsystem', { subsystem: true });
    const error = await proc.exit.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(error).toMatchObject({ code: 'CHANNEL_REQUEST_FAILED', request: 'subsystem' });
    // The streams end empty instead of failing, and writes are dropped without an error event.
    proc.stdin.end('ignored');
    expect(await digest(proc.stdout)).toMatchObject({ bytes: 0 });
  });

  it('streams stdin interactively: cat echoes each line before the next is written', async () => {
    const proc = client.spawn('cat');
    proc.stdout.setEncoding('utf8');
    const lines = proc.stdout[Symbol.asyncIterator]();
    for (const line of ['first\n', 'second\n', 'third\n']) {
      proc.stdin.write(line);
      let got = '';
      while (got.length < line.length) got += (await lines.next()).value as string;
      expect(got).toBe(line);
    }
    proc.stdin.end();
    expect((await lines.next()).done).toBe(true);
    expect(await proc.exit).toEqual({ exitStatus: 0, exitSignal: null });
  });

  it('delivers a signal to the command', async () => {
    const proc = client.spawn('echo started; exec sleep 60');
    proc.stdout.setEncoding('utf8');
    const [first] = (await once(proc.stdout, 'data')) as [string];
    expect(first).toBe('started\n');
    const started = performance.now();
    proc.signal('TERM');
    proc.stdout.resume();
    const exit = await proc.exit;
    expect(exit.exitSignal).toMatchObject({ signal: 'TERM' });
    expect(exit.exitStatus).toBeNull();
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('a reader that does not read stops the sender through the window', async () => {
    const total = 64 * MiB;
    const before = client.statistics.bytesReceived;
    const proc = client.spawn(`head -c ${total} /dev/zero`);
    // Nobody reads for a second: at most the 2 MiB window plus the stream buffer may arrive.
    await new Promise((r) => setTimeout(r, 1000));
    const whilePaused = client.statistics.bytesReceived - before;
    expect(whilePaused).toBeLessThan(3 * MiB);
    const all = await digest(proc.stdout);
    expect(all.bytes).toBe(total);
    expect(await proc.exit).toEqual({ exitStatus: 0, exitSignal: null });
    expect(client.statistics.bytesReceived - before).toBeGreaterThan(total);
  });

  it('a command that does not read stops our writer: stdin waits for the window', async () => {
    const before = client.statistics.bytesSent;
    const proc = client.spawn('sleep 2; exec wc -c');
    proc.stdout.setEncoding('utf8');
    const out = proc.stdout.toArray();
    const chunk = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    const started = performance.now();
    // Write as fast as the stream takes it for one second while the remote sleeps.
    for (;;) {
      written += chunk.length;
      if (proc.stdin.write(chunk)) continue;
      const left = 1000 - (performance.now() - started);
      if (left <= 0) break;
      const drained = await Promise.race([once(proc.stdin, 'drain').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), left))]);
      if (!drained) break;
    }
    const sent = client.statistics.bytesSent - before;
    // sshd's 2 MiB window, our 256 KiB high-water mark and the stream's own buffer: far from unbounded.
    expect(written).toBeLessThan(4 * MiB);
    expect(sent).toBeLessThan(3 * MiB);
    proc.stdin.end();
    // Everything handed to write() arrived, once the command read it.
    expect(Number((await out).join('').trim())).toBe(written);
    expect(await proc.exit).toEqual({ exitStatus: 0, exitSignal: null });
  });

  it('refuses a session beyond MaxSessions with a ChannelOpenError carrying the reason code', async () => {
    const strict = await startSshd({ keys, extra: ['MaxSessions 1', 'Match All', `AuthorizedKeysFile ${dir}/%u_keys`] });
    try {
      const c = await connect({ ...options(), port: strict.port });
      // cat: ends on our EOF (sshd keeps a closed session until its command exits).
      const first = c.spawn('cat');
      const second = c.spawn('true');
      const error = await second.exit.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ChannelOpenError);
      expect(error).toMatchObject({ code: 'CHANNEL_OPEN_FAILED' });
      // sshd 9.2 answers a session it cannot start with CONNECT_FAILED, "open failed".
      expect(error).toMatchObject({ reason: 2, description: 'open failed' });
      first.stdin.end();
      expect(await first.exit).toEqual({ exitStatus: 0, exitSignal: null });
      await c.close();
    } finally {
      await strict.stop();
    }
  });
});

describe('bulk data', () => {
  const REKEY = 64 * MiB;
  /**
   * Key exchanges a connection must report after moving 1 GiB with 64 MiB limits: 1 GiB is 16 key
   * periods, i.e. the initial exchange plus 15 re-keys inside the transfer (the 16th limit falls on
   * the transfer's last bytes, whether it triggers depends on packet overhead and timing).
   */
  const KEX_PER_GIB = 16;
  /** SHA-256 of the 1 GiB file the upload leaves in dataDir for the download. */
  let bigFile: { path: string; sha256: string } | null = null;

  it('uploads 1 GiB into sha256sum with both sides re-keying every 64 MiB', async () => {
    const c = await connect(options({ rekeyBytes: REKEY }));
    try {
      const path = join(dataDir, 'big');
      const kexBefore = c.statistics.keyExchanges;
      const started = performance.now();
      // tee keeps a copy for the download test; sha256sum is the server's view of what arrived.
      const proc = c.spawn(`tee ${path} | sha256sum`);
      proc.stdout.setEncoding('utf8');
      const out = proc.stdout.toArray();
      const ours = await feed(proc.stdin, GiB);
      const theirs = (await out).join('').split(' ')[0];
      expect(await proc.exit).toEqual({ exitStatus: 0, exitSignal: null });
      const ms = performance.now() - started;
      const rekeys = c.statistics.keyExchanges - kexBefore;
      console.log(`1 GiB upload: ${mbps(GiB, ms)} MB/s (${(ms / 1000).toFixed(1)} s), ${rekeys} re-keys, ${c.algorithms?.cipherClientToServer}`);
      expect(theirs).toBe(ours);
      expect(c.statistics.keyExchanges).toBeGreaterThanOrEqual(KEX_PER_GIB);
      expect(rekeys).toBeGreaterThanOrEqual(KEX_PER_GIB - 1);
      bigFile = { path, sha256: ours };
    } finally {
      await c.close();
    }
  });

  it('downloads 1 GiB from cat with both sides re-keying every 64 MiB', async () => {
    expect(bigFile, 'the upload test creates the file this test downloads').not.toBeNull();
    const c = await connect(options({ rekeyBytes: REKEY }));
    try {
      const kexBefore = c.statistics.keyExchanges;
      const started = performance.now();
      const proc = c.spawn(`cat ${bigFile!.path}`);
      proc.stdin.end();
      const got = await digest(proc.stdout);
      expect(await proc.exit).toEqual({ exitStatus: 0, exitSignal: null });
      const ms = performance.now() - started;
      const rekeys = c.statistics.keyExchanges - kexBefore;
      console.log(`1 GiB download: ${mbps(GiB, ms)} MB/s (${(ms / 1000).toFixed(1)} s), ${rekeys} re-keys, ${c.algorithms?.cipherServerToClient}`);
      expect(got).toEqual({ bytes: GiB, sha256: bigFile!.sha256 });
      expect(c.statistics.keyExchanges).toBeGreaterThanOrEqual(KEX_PER_GIB);
      expect(rekeys).toBeGreaterThanOrEqual(KEX_PER_GIB - 1);
    } finally {
      await c.close();
    }
  });

  it('moves 10 MiB through cat on each of 100 concurrent channels of one connection', async () => {
    const c = await connect(options());
    try {
      const PER = 10 * MiB;
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const proc = c.spawn('cat');
          const [sent, back, exit] = await Promise.all([feed(proc.stdin, PER, 256 * 1024), digest(proc.stdout), proc.exit]);
          return { sent, back, exit };
        }),
      );
      const ms = performance.now() - started;
      console.log(`100 × 10 MiB echo: ${mbps(100 * PER, ms)} MB/s each way (${(ms / 1000).toFixed(1)} s), ${c.statistics.keyExchanges} key exchanges`);
      for (const r of results) {
        expect(r.back).toEqual({ bytes: PER, sha256: r.sent });
        expect(r.exit).toEqual({ exitStatus: 0, exitSignal: null });
      }
      // Every stream had its own data: the digests are all different.
      expect(new Set(results.map((r) => r.sent)).size).toBe(100);
    } finally {
      await c.close();
    }
  });

  it('delivers everything through a 1 KiB receive window', async () => {
    const c = await connect(options({ channelWindow: 1024, channelMaxPacket: 1024 }));
    try {
      const TOTAL = 4 * MiB;
      const started = performance.now();
      const proc = c.spawn('cat');
      const [sent, back, exit] = await Promise.all([feed(proc.stdin, TOTAL, 64 * 1024), digest(proc.stdout), proc.exit]);
      const ms = performance.now() - started;
      console.log(`4 MiB echo through a 1 KiB window: ${mbps(TOTAL, ms)} MB/s (${(ms / 1000).toFixed(1)} s)`);
      expect(back).toEqual({ bytes: TOTAL, sha256: sent });
      expect(exit).toEqual({ exitStatus: 0, exitSignal: null });
    } finally {
      await c.close();
    }
  });
});
