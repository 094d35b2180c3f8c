/**
 * Bulk transfer throughput through `cat` on one private OpenSSH sshd, same machine, same run:
 * hermit's Node client (io-node/streams/client.ts) vs OpenSSH's `ssh` vs the `ssh2` package, for a
 * download (`cat FILE`) and an upload (`cat > /dev/null`) of 256 MiB, per cipher.
 *
 * The libraries are timed from the exec request to the channel's end on a connection opened
 * beforehand. `ssh` is a whole command, so its time includes start-up and handshake; the
 * "start-up" row (`ssh … true`) says how much of it that is, and its MB/s subtracts it.
 *
 * sshd needs a real account to log in to: the bench uses `hermit-test` (the interop tests' user)
 * and creates it when running as root; otherwise it says why it cannot run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connect, type SshClient } from '../streams/client.ts';
import { readPrivateKeyFile } from '../trust/keys.ts';
import type { PrivateKey } from '../../core/index.ts';
import { renderTable } from './table.ts';

type Table = { header: string[]; rows: (string | number)[][] };

const USER = 'hermit-test';
const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const CIPHERS = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];

function which(name: string, extra: string[] = []): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), ...extra]) {
    if (!dir) continue;
    const p = join(dir, name);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}

/** The account to log in as, created when absent and we are root; a sentence saying why not otherwise. */
function ensureUser(): { uid: number; gid: number } | string {
  const entry = () => spawnSync('getent', ['passwd', USER], { encoding: 'utf8' }).stdout.trim().split(':');
  let fields = entry();
  if (fields.length < 7) {
    if (process.getuid?.() !== 0) return `user ${USER} does not exist and only root can create it (useradd -m -s /bin/sh -p '*' ${USER})`;
    // Password field `*`: no password, yet not locked (sshd without PAM refuses locked accounts).
    const made = spawnSync('useradd', ['-m', '-s', '/bin/sh', '-p', '*', USER], { encoding: 'utf8' });
    if (made.status !== 0 && made.status !== 9) return `useradd ${USER} failed: ${made.stderr.trim()}`;
    fields = entry();
  }
  if (fields[6] !== '/bin/sh') return `user ${USER} has shell ${fields[6]}; the bench needs /bin/sh so no start-up files run`;
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Incompressible bytes (an AES-CTR keystream), so no layer can shortcut them. */
function pseudoRandom(n: number): Buffer {
  return createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16)).update(Buffer.alloc(n));
}

function timed(cmd: string, args: string[], stdin: string | 'ignore', stdout: string | 'ignore'): Promise<number> {
  return new Promise((resolve, reject) => {
    const fds: number[] = [];
    const io = (spec: string | 'ignore', write: boolean) => {
      if (spec === 'ignore') return 'ignore' as const;
      const fd = openSync(spec, write ? 'w' : 'r');
      fds.push(fd);
      return fd;
    };
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: [io(stdin, false), io(stdout, true), 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => {
      for (const fd of fds) closeSync(fd);
      if (code === 0) resolve(performance.now() - start);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`));
    });
  });
}

async function hermitDownload(c: SshClient, file: string): Promise<number> {
  const start = performance.now();
  const proc = c.spawn(`cat ${file}`);
  proc.stdin.end();
  let n = 0;
  for await (const chunk of proc.stdout) n += (chunk as Buffer).length;
  await proc.exit;
  if (n !== SIZE) throw new Error(`hermit download got ${n} bytes`);
  return performance.now() - start;
}

async function hermitUpload(c: SshClient, block: Buffer): Promise<number> {
  const start = performance.now();
  const proc = c.spawn('cat > /dev/null');
  proc.stdout.resume();
  for (let sent = 0; sent < SIZE; sent += block.length) if (!proc.stdin.write(block)) await once(proc.stdin, 'drain');
  proc.stdin.end();
  const exit = await proc.exit;
  if (exit.exitStatus !== 0) throw new Error(`hermit upload: exit ${exit.exitStatus}`);
  return performance.now() - start;
}

interface Ssh2Stream {
  on(event: string, fn: (...args: unknown[]) => void): Ssh2Stream;
  once(event: string, fn: (...args: unknown[]) => void): Ssh2Stream;
  write(data: Buffer): boolean;
  end(): void;
  resume(): void;
  stderr: { resume(): void };
}
interface Ssh2Client {
  on(event: string, fn: (...args: unknown[]) => void): Ssh2Client;
  connect(options: Record<string, unknown>): void;
  exec(command: string, cb: (err: Error | undefined, stream: Ssh2Stream) => void): void;
  end(): void;
}

function ssh2Exec(c: Ssh2Client, command: string): Promise<Ssh2Stream> {
  return new Promise((resolve, reject) => c.exec(command, (err, stream) => (err ? reject(err) : resolve(stream))));
}

async function ssh2Download(c: Ssh2Client, file: string): Promise<number> {
  const start = performance.now();
  const stream = await ssh2Exec(c, `cat ${file}`);
  stream.end();
  stream.stderr.resume();
  let n = 0;
  stream.on('data', (d) => (n += (d as Buffer).length));
  await new Promise<void>((r) => stream.once('close', () => r()));
  if (n !== SIZE) throw new Error(`ssh2 download got ${n} bytes`);
  return performance.now() - start;
}

async function ssh2Upload(c: Ssh2Client, block: Buffer): Promise<number> {
  const start = performance.now();
  const stream = await ssh2Exec(c, 'cat > /dev/null');
  stream.resume();
  stream.stderr.resume();
  const closed = new Promise<void>((r) => stream.once('close', () => r()));
  for (let sent = 0; sent < SIZE; sent += block.length) {
    if (!stream.write(block)) await new Promise<void>((r) => stream.once('drain', () => r()));
  }
  stream.end();
  await closed;
  return performance.now() - start;
}

/** Fastest of `rounds` runs: the machine is shared, and the best run is the least disturbed. */
async function best(rounds: number, fn: () => Promise<number>): Promise<number> {
  let ms = Infinity;
  for (let i = 0; i < rounds; i++) ms = Math.min(ms, await fn());
  return ms;
}

interface BenchSshd {
  readonly port: number;
  readonly dir: string;
  /** SIZE bytes of incompressible data, readable by the bench user. */
  readonly file: string;
  readonly userKeys: PrivateKey[];
  /** The host key's base64 blob. */
  readonly hostPub: string;
  readonly ssh: string;
}

/** hermit's client logged in to the bench sshd with one cipher. */
function connectHermit(s: Pick<BenchSshd, 'port' | 'userKeys' | 'hostPub'>, cipher: string): Promise<SshClient> {
  return connect({
    host: '127.0.0.1',
    port: s.port,
    username: USER,
    privateKeys: s.userKeys,
    hostKey: (d) => d.hostKey.type === 'ssh-ed25519' && Buffer.from(d.hostKey.blob).toString('base64') === s.hostPub,
    algorithms: { cipher: [cipher] },
  });
}

/** A private sshd with a bench user and a data file, for `fn`; a string says why it cannot run. */
async function withBenchSshd<T>(fn: (s: BenchSshd) => Promise<T>): Promise<T | string> {
  const sshd = which('sshd', ['/usr/sbin', '/usr/local/sbin']);
  const ssh = which('ssh');
  const keygen = which('ssh-keygen');
  if (!sshd || !ssh || !keygen) return 'OpenSSH is not installed (apt-get install -y openssh-server openssh-client)';
  const user = ensureUser();
  if (typeof user === 'string') return user;
  const dir = mkdtempSync(join(tmpdir(), 'hermit-bench-transfer-'));
  // sshd reads the authorized keys as the user: the directory must be traversable.
  chmodSync(dir, 0o755);
  const daemonHolder: { kill(): void }[] = [];
  try {
    for (const [name, args] of [['host', ['-t', 'ed25519']], ['user', ['-t', 'ed25519']]] as const) {
      const r = spawnSync(keygen, ['-q', '-N', '', ...args, '-f', join(dir, name)], { encoding: 'utf8' });
      if (r.status !== 0) return `ssh-keygen failed: ${r.stderr}`;
    }
    chmodSync(join(dir, 'user'), 0o600);
    writeFileSync(join(dir, `${USER}_keys`), readFileSync(join(dir, 'user.pub')), { mode: 0o644 });
    const file = join(dir, 'data');
    // Written in pieces so the bench never holds the whole file in memory.
    const fd = openSync(file, 'w', 0o644);
    for (let i = 0; i < SIZE / (16 * MiB); i++) writeSync(fd, pseudoRandom(16 * MiB));
    closeSync(fd);
    chownSync(file, user.uid, user.gid);

    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host')}`,
        `PidFile ${join(dir, 'pid')}`,
        'UsePAM no',
        'StrictModes no',
        `AuthorizedKeysFile ${dir}/%u_keys`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        `Ciphers ${CIPHERS.join(',')}`,
        'MaxStartups 100',
        'LogLevel QUIET',
      ].join('\n') + '\n',
    );
    mkdirSync('/run/sshd', { recursive: true });
    const daemon = spawn(sshd, ['-D', '-f', config], { stdio: 'ignore' });
    daemonHolder.push(daemon);
    await new Promise((r) => setTimeout(r, 300));

    const hostPub = readFileSync(join(dir, 'host.pub'), 'utf8').split(' ')[1];
    const userKeys = await readPrivateKeyFile(join(dir, 'user'));
    return await fn({ port, dir, file, userKeys, hostPub: hostPub!, ssh });
  } finally {
    for (const d of daemonHolder) d.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchTransfer(rounds = 2): Promise<Table> {
  const header = ['256 MiB through cat, one sshd, same run', 'cipher', 'download MB/s', 'upload MB/s', 'hermit / it (down)', 'hermit / it (up)'];
  const result = await withBenchSshd(async ({ port, dir, file, userKeys, hostPub, ssh }): Promise<Table> => {
    const block = pseudoRandom(MiB);
    const null_ = '/dev/null';
    const sshBase = (cipher: string) => [
      '-p', String(port), '-i', join(dir, 'user'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'LogLevel=QUIET', '-o', `Ciphers=${cipher}`, '-o', 'IdentitiesOnly=yes', `${USER}@127.0.0.1`,
    ];

    let ssh2: { Client: new () => Ssh2Client } | null = null;
    let ssh2Version = '';
    try {
      const require = createRequire(import.meta.url);
      ssh2 = require('ssh2') as { Client: new () => Ssh2Client };
      ssh2Version = (require('ssh2/package.json') as { version: string }).version;
    } catch {
      ssh2 = null;
    }

    const rows: (string | number)[][] = [];
    const mb = (ms: number) => SIZE / 1e6 / (ms / 1000);
    for (const cipher of CIPHERS) {
      const client = await connectHermit({ port, userKeys, hostPub }, cipher);
      const hDown = await best(rounds, () => hermitDownload(client, file));
      const hUp = await best(rounds, () => hermitUpload(client, block));
      await client.close();

      const startup = await best(rounds, () => timed(ssh, [...sshBase(cipher), 'true'], 'ignore', 'ignore'));
      const sDown = (await best(rounds, () => timed(ssh, [...sshBase(cipher), `cat ${file}`], 'ignore', null_))) - startup;
      const sUp = (await best(rounds, () => timed(ssh, [...sshBase(cipher), 'cat > /dev/null'], file, 'ignore'))) - startup;

      rows.push([`hermit (node provider)`, cipher, mb(hDown), mb(hUp), 1, 1]);
      rows.push([`OpenSSH ssh (minus ${startup.toFixed(0)} ms start-up)`, cipher, mb(sDown), mb(sUp), sDown / hDown, sUp / hUp]);
      if (ssh2) {
        const c = new ssh2.Client();
        await new Promise<void>((resolve, reject) => {
          c.on('ready', () => resolve());
          c.on('error', (e) => reject(e as Error));
          c.connect({ host: '127.0.0.1', port, username: USER, privateKey: readFileSync(join(dir, 'user')), algorithms: { cipher: [cipher] } });
        });
        const tDown = await best(rounds, () => ssh2Download(c, file));
        const tUp = await best(rounds, () => ssh2Upload(c, block));
        c.end();
        rows.push([`ssh2 ${ssh2Version}`, cipher, mb(tDown), mb(tUp), tDown / hDown, tUp / hUp]);
      } else {
        rows.push(['ssh2 (not installed: npm ci installs it as a dev dependency)', cipher, NaN, NaN, NaN, NaN]);
      }
    }
    return { header, rows };
  });
  return typeof result === 'string' ? { header, rows: [[`cannot run: ${result}`, '', NaN, NaN, NaN, NaN]] } : result;
}

const SLOW_SIZE = 1024 * MiB;

/**
 * Backpressure end to end: a 1 GiB download consumed slowly (a pause after every MiB read) must
 * keep the client's memory flat — the window reopens only for bytes the reader took, so sshd
 * waits instead of the client buffering. Reports RSS before, the peak while reading, and the rate.
 */
export async function benchSlowReader(): Promise<Table> {
  const header = ['1 GiB download, reader pauses 4 ms per MiB', 'RSS before (MiB)', 'RSS peak (MiB)', 'peak - before (MiB)', 'MB/s'];
  const result = await withBenchSshd(async ({ port, userKeys, hostPub }): Promise<Table> => {
    const client = await connectHermit({ port, userKeys, hostPub }, 'aes128-gcm@openssh.com');
    try {
      globalThis.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const started = performance.now();
      const proc = client.spawn(`head -c ${SLOW_SIZE} /dev/zero`);
      let got = 0;
      let nextPause = MiB;
      for await (const chunk of proc.stdout) {
        got += (chunk as Buffer).length;
        if (got >= nextPause) {
          nextPause += MiB;
          await new Promise((r) => setTimeout(r, 4));
        }
      }
      await proc.exit;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const ms = performance.now() - started;
      if (got !== SLOW_SIZE) throw new Error(`read ${got} bytes of ${SLOW_SIZE}`);
      const mib = (n: number) => n / MiB;
      return { header, rows: [['hermit (node provider)', mib(before), mib(peak), mib(peak - before), SLOW_SIZE / 1e6 / (ms / 1000)]] };
    } finally {
      await client.close();
    }
  });
  return typeof result === 'string' ? { header, rows: [[`cannot run: ${result}`, NaN, NaN, NaN, NaN]] } : result;
}

// Self-contained: `node dist/io-node/bench/transfer.js` runs just this section.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t = await benchTransfer();
  console.log(renderTable('Bulk transfer through cat against OpenSSH sshd: hermit vs ssh vs ssh2 (MB = 10^6 bytes)', t.header, t.rows));
  const slow = await benchSlowReader();
  console.log(renderTable('Backpressure: a slow reader of a 1 GiB download', slow.header, slow.rows));
}
