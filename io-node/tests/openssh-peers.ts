/**
 * Interop harness: real OpenSSH binaries started by the tests themselves on 127.0.0.1 with a
 * private configuration and a free port (DESIGN.md section 4.4), plus helpers that run the built
 * `hermit` command as a child process, exactly as a user would.
 *
 * Missing binaries are a failure, not a skip: an interop suite that silently skips proves nothing.
 * Free of vitest, so the Deno suite runs the same peers (openssh.ts adds the vitest hook).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(repoRoot, 'dist', 'io-node', 'cli', 'cli.js');

/** The node binary: this process's under Node, the one on PATH under Deno (which runs this harness too). */
export const nodeExecutable = /(^|\/)node(\.exe)?$/.test(process.execPath) ? process.execPath : 'node';

const INSTALL_HINT = 'install them with: apt-get install -y openssh-server openssh-client';

function findBinary(name: string, extraDirs: readonly string[] = []): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), ...extraDirs]) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return null;
}

export interface OpenSshBinaries {
  readonly sshd: string;
  readonly ssh: string;
  readonly sshKeyscan: string;
  readonly sshKeygen: string;
}

/** The OpenSSH programs, or an error naming the missing ones and how to install them. */
export function openSshBinaries(): OpenSshBinaries {
  const sbin = ['/usr/sbin', '/usr/local/sbin', '/sbin'];
  // sshd re-executes itself and insists on an absolute path.
  const found = {
    sshd: findBinary('sshd', sbin),
    ssh: findBinary('ssh'),
    sshKeyscan: findBinary('ssh-keyscan'),
    sshKeygen: findBinary('ssh-keygen'),
  };
  const missing = Object.entries(found)
    .filter(([, p]) => p === null)
    .map(([k]) => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));
  if (missing.length > 0) {
    throw new Error(`OpenSSH interop tests need ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed; ${INSTALL_HINT}`);
  }
  return found as unknown as OpenSshBinaries;
}

// ---------------------------------------------------------------- processes

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A child that exits without reading its input must not crash the test run with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export function runHermit(args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(nodeExecutable, [cliPath, ...args], options);
}

/** Wait until `child`'s output (stdout or stderr) matches, or fail with everything it said. */
function waitForOutput(child: ChildProcess, what: string, pattern: RegExp, timeoutMs: number, output: { stdout: string; stderr: string }): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(output.stdout) ?? pattern.exec(output.stderr);
      if (m) {
        done();
        resolve(m);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready\nstdout: ${output.stdout}\nstderr: ${output.stderr}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what} was not ready within ${timeoutMs} ms\nstdout: ${output.stdout}\nstderr: ${output.stderr}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.on('exit', onExit);
    check();
  });
}

function collect(child: ChildProcess): { stdout: string; stderr: string } {
  const output = { stdout: '', stderr: '' };
  // Bounded: a long-running daemon logging every connection must not grow without limit.
  const keep = (s: string) => (s.length > 256 * 1024 ? s.slice(-128 * 1024) : s);
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout = keep(output.stdout + d)));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr = keep(output.stderr + d)));
  return output;
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

// ---------------------------------------------------------------- build

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) {
      if (name !== 'tests' && name !== 'node_modules') newest = Math.max(newest, newestSource(p));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

/** A build takes seconds on an idle machine; these bounds are for a machine shared by parallel runs. */
const LOCK_WAIT_MS = 240_000;
/** For beforeAll hooks that call {@link ensureBuilt}: a lock wait plus a build, plus starting the peers. */
export const SETUP_TIMEOUT_MS = 2 * LOCK_WAIT_MS + 60_000;

/**
 * `npm run build` once for all test files: several vitest workers start at the same time, so a
 * directory lock serialises them and a stamp skips the build when dist/ is newer than the sources.
 */
export async function ensureBuilt(): Promise<string> {
  const work = join(repoRoot, '.hermit-test');
  mkdirSync(work, { recursive: true });
  const lock = join(work, 'build.lock');
  const stamp = join(work, 'build.stamp');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > LOCK_WAIT_MS) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const sources = Math.max(...['core', 'machines', 'io-node'].map((d) => newestSource(join(repoRoot, d))));
    const built = existsSync(cliPath) && existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
    if (built < sources) {
      const started = new Date();
      const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await run(nodeExecutable, [tsc, '-p', join(repoRoot, 'tsconfig.build.json')], { timeoutMs: LOCK_WAIT_MS });
      if (result.code !== 0) throw new Error(`npm run build failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
      await writeFile(stamp, '');
      // The stamp says "built from sources as of the start", so an edit during the build still triggers the next one.
      await utimes(stamp, started, started);
    }
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
  return cliPath;
}

// ---------------------------------------------------------------- network

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `hermit-${prefix}-`));
}

// ---------------------------------------------------------------- keys

export type HostKeyName = 'ed25519' | 'ecdsa256' | 'ecdsa384' | 'ecdsa521' | 'rsa';

export interface HostKeyFiles {
  readonly dir: string;
  /** Private key paths; `${path}.pub` beside each. */
  readonly paths: Readonly<Record<HostKeyName, string>>;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprints: Readonly<Record<HostKeyName, string>>;
}

const keygenArgs: Record<HostKeyName, string[]> = {
  ed25519: ['-t', 'ed25519'],
  ecdsa256: ['-t', 'ecdsa', '-b', '256'],
  ecdsa384: ['-t', 'ecdsa', '-b', '384'],
  ecdsa521: ['-t', 'ecdsa', '-b', '521'],
  rsa: ['-t', 'rsa', '-b', '3072'],
};

/** Which of our host keys signs with a given host key algorithm. */
export const keyForAlgorithm: Readonly<Record<string, HostKeyName>> = {
  'ssh-ed25519': 'ed25519',
  'ecdsa-sha2-nistp256': 'ecdsa256',
  'ecdsa-sha2-nistp384': 'ecdsa384',
  'ecdsa-sha2-nistp521': 'ecdsa521',
  'rsa-sha2-512': 'rsa',
  'rsa-sha2-256': 'rsa',
  'ssh-rsa': 'rsa',
};

export async function fingerprintOf(path: string): Promise<string> {
  const { sshKeygen } = openSshBinaries();
  const r = await run(sshKeygen, ['-lf', path]);
  if (r.code !== 0) throw new Error(`ssh-keygen -lf ${path} failed: ${r.stderr}`);
  const fp = r.stdout.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -lf output: ${r.stdout}`);
  return fp;
}

/** Host keys of every type, made by ssh-keygen. */
export async function makeHostKeys(): Promise<HostKeyFiles> {
  const { sshKeygen } = openSshBinaries();
  const dir = await tempDir('keys');
  const names = Object.keys(keygenArgs) as HostKeyName[];
  const paths = {} as Record<HostKeyName, string>;
  const fingerprints = {} as Record<HostKeyName, string>;
  await Promise.all(
    names.map(async (name) => {
      const path = join(dir, `ssh_host_${name}_key`);
      const r = await run(sshKeygen, ['-q', '-N', '', '-C', `test-${name}`, ...keygenArgs[name], '-f', path]);
      if (r.code !== 0) throw new Error(`ssh-keygen for ${name} failed: ${r.stderr}`);
      paths[name] = path;
      fingerprints[name] = await fingerprintOf(path);
    }),
  );
  return { dir, paths, fingerprints };
}

// ---------------------------------------------------------------- sshd

/** Everything hermit implements, so that the client side alone decides what is negotiated. */
export const ALL_KEX_OPENSSH = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
  'diffie-hellman-group14-sha256',
];
export const ALL_CIPHERS = ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'];
export const ALL_MACS = ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha1', 'hmac-sha1-etm@openssh.com'];
export const ALL_HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

export interface SshdOptions {
  readonly keys: HostKeyFiles;
  readonly kex?: readonly string[];
  readonly ciphers?: readonly string[];
  readonly macs?: readonly string[];
  readonly hostKeyAlgorithms?: readonly string[];
  /** UsePAM yes (needed for keyboard-interactive through PAM; a global-only keyword). Default no. */
  readonly usePam?: boolean;
  /** Extra sshd_config lines (sshd takes the first value of a keyword: override defaults under `Match All`). */
  readonly extra?: readonly string[];
}

export interface Sshd {
  readonly port: number;
  readonly configPath: string;
  /** What sshd has logged so far (for diagnostics). */
  log(): string;
  stop(): Promise<void>;
}

/** The methods sshd answers to `none` with the configuration below. */
export const SSHD_AUTH_METHODS = 'publickey,password';

export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const { sshd } = openSshBinaries();
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) {
    // sshd running as root refuses to start without its privilege separation directory.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  }
  const dir = await tempDir('sshd');
  let lastError: Error | null = null;
  // freePort can race with another process grabbing the port before sshd binds it: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    const lines = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...Object.values(options.keys.paths).map((p) => `HostKey ${p}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `UsePAM ${options.usePam ? 'yes' : 'no'}`,
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'MaxStartups 200',
      'LogLevel VERBOSE',
      `KexAlgorithms ${(options.kex ?? ALL_KEX_OPENSSH).join(',')}`,
      `Ciphers ${(options.ciphers ?? ALL_CIPHERS).join(',')}`,
      `MACs ${(options.macs ?? ALL_MACS).join(',')}`,
      `HostKeyAlgorithms ${(options.hostKeyAlgorithms ?? ALL_HOST_KEY_ALGORITHMS).join(',')}`,
      ...(options.extra ?? []),
    ];
    await writeFile(configPath, lines.join('\n') + '\n');
    const child = spawn(sshd, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = collect(child);
    try {
      await waitForOutput(child, 'sshd', new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${port}`), 10_000, output);
    } catch (err) {
      lastError = err as Error;
      await stopChild(child);
      if (/Address already in use/.test(output.stderr)) continue;
      throw err;
    }
    return {
      port,
      configPath,
      log: () => output.stderr,
      stop: async () => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw lastError ?? new Error('sshd did not start');
}

// ---------------------------------------------------------------- hermit serve

export interface HermitServer {
  readonly port: number;
  /** What `hermit serve` printed on stdout before it was ready (fingerprint lines, listening line). */
  readonly banner: string;
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** Whether the server process is still running. */
  running(): boolean;
  /** The server's process id (the shell that lowered the descriptor limit exec'd into it). */
  readonly pid?: number;
}

export async function startHermitServe(args: readonly string[], env?: NodeJS.ProcessEnv, options: { descriptorLimit?: number } = {}): Promise<HermitServer> {
  const argv = [cliPath, 'serve', '--listen', '127.0.0.1:0', ...args];
  // Node raises the soft descriptor limit to the hard one, so the shell lowers both.
  const child =
    options.descriptorLimit === undefined
      ? spawn(nodeExecutable, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env })
      : spawn('/bin/sh', ['-c', `ulimit -n ${options.descriptorLimit} && exec "$0" "$@"`, nodeExecutable, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  const output = collect(child);
  const m = await waitForOutput(child, 'hermit serve', /^listening on 127\.0\.0\.1:(\d+)$/m, 60_000, output);
  return {
    port: Number(m[1]),
    banner: output.stdout,
    output: () => ({ ...output }),
    stop: () => stopChild(child),
    running: () => child.exitCode === null && child.signalCode === null,
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
  };
}

/** `name: value` lines of `hermit probe` as a record. */
export function parseProbeOutput(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([a-z0-9-]+): (.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Run `fn` over `items` with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}
