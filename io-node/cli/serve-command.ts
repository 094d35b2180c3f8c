/**
 * `hermit serve`: an SSH server on a TCP address with host keys from files or the state directory,
 * and the logins it accepts (io-node/server-host/server-auth.ts) from authorized_keys, CA and password files.
 */
import { readFile } from 'node:fs/promises';
import { formatFingerprintLine, formatUnixTimeUtc, parseCertificateLine, SshUsageError } from '../../core/index.ts';
import type { AlgorithmOptions } from './probe.ts';
import { UsageError, algorithmOption, formatAddress, parseListen, splitOption, tokens } from './cli-common.ts';
import { prompt } from '../trust/prompt.ts';
import { serve } from '../server-host/serve.ts';
import { hashPasswordForFile } from '../trust/trust-files.ts';
import { MaxStartupsError, parseMaxStartups, type MaxStartups } from '../../core/api/index.ts';
import { AuthConfigError, ServerAuthPolicy, checkAuthMethodStores, formatAuthMethods, parseAuthMethods, type AuthMethodName } from '../server-host/server-auth.ts';
import { defaultStateDir, loadHostKeyFiles, loadOrCreateHostKeys } from '../trust/state-dir.ts';

export const SERVE_HELP = `Usage: hermit serve [--listen ADDRESS] [--host-key FILE]... [--state-dir DIR]
                    [--authorized-keys FILE] [--trusted-user-ca FILE] [--password-file FILE]
                    [--auth-methods LIST] [--allow-user NAME]... [--max-auth-tries N]
                    [--banner FILE] [--host-certificate FILE]... [-o Name=value]... [-q]

Run an SSH server. It completes the key exchange and authenticates users; sessions are not
offered yet.

Who may log in: hermit serve acts as the account that runs it and does not switch users. Clients
may log in as that account's name and as each --allow-user NAME; all of them share the
authorized_keys and CA files, and each may have a line in the password file. Other names are
offered the same methods and always fail (the log says "invalid user"), so names cannot be probed.
authorized_keys, the CA file and the password file are read again for every connection: edits
apply to the next login without a restart.

Options:
  --listen ADDRESS   HOST:PORT, [IPV6]:PORT or PORT to listen on (default 127.0.0.1:2222);
                     port 0 picks a free one. The actual address is printed as
                     'listening on HOST:PORT'.
  --host-key FILE    an OpenSSH private key (unencrypted) to use as host key; repeat for more.
                     Without it, ed25519, ecdsa-p256 and rsa-3072 keys are created in the state
                     directory on first run and reused afterwards.
  --state-dir DIR    where generated host keys live (default $XDG_STATE_HOME/hermit,
                     or ~/.local/state/hermit).
  --authorized-keys FILE
                     public keys that may log in, in sshd's authorized_keys format (options such
                     as from=, expiry-time=, cert-authority and principals= are honoured).
                     Default ~/.ssh/authorized_keys of the user running hermit.
  --trusted-user-ca FILE
                     CA public keys (one .pub line each) whose user certificates are accepted
                     when they name the login name as a principal (sshd's TrustedUserCAKeys).
  --password-file FILE
                     'user:hash' lines (SHA-crypt $6$/$5$ or $scrypt$); make a line with
                     'hermit hash-password USER'. Enables password and keyboard-interactive.
  --auth-methods LIST
                     which methods must succeed, in sshd's AuthenticationMethods syntax: chains
                     of comma-joined methods, alternatives separated by spaces, e.g.
                     "publickey,password keyboard-interactive". Default "publickey password
                     keyboard-interactive", keeping only methods whose file is configured
                     (publickey always; the password methods need --password-file).
  --allow-user NAME  another login name that may authenticate; repeat for more.
  --max-auth-tries N failed attempts before the connection is dropped (default 6).
  --banner FILE      text shown to clients before they authenticate.
  --host-certificate FILE
                     an OpenSSH host certificate (ssh-keygen -s CA -h) for one of the host keys;
                     repeat for more.
  -o Name=value      KexAlgorithms, Ciphers, MACs or HostKeyAlgorithms, as in sshd_config(5):
                     a full list, or +list to append, -patterns to remove, ^list to put first.
                     Also LoginGraceTime (seconds, or 1m30s style; 0 = no limit; default 120),
                     MaxAuthTries and AuthenticationMethods, as the options above, and
                     ClientAliveInterval (seconds; 0 = off, the default) with ClientAliveCountMax
                     (default 3): probe a silent client, drop it after that many unanswered probes.
                     MaxStartups=begin:rate:full (default 10:30:100) refuses new connections at
                     random (rate% at begin, all at full) while that many have not logged in
                     yet; MaxStartups=N refuses every one past N.
  -q, --quiet        do not log connections and login attempts on stderr.
  -h, --help         show this help.
`;

/** sshd_config(5) TIME FORMATS: a sequence of numbers with optional s/m/h/d/w units (none = seconds). */
export function parseSshdTime(text: string, what: string): number {
  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  if (!/^(?:\d+[smhdw]?)+$/i.test(text)) throw new UsageError(`${what} ${JSON.stringify(text)} is not a time; write seconds (120) or units like 1m30s (s, m, h, d, w)`);
  let seconds = 0;
  for (const m of text.matchAll(/(\d+)([smhdw]?)/gi)) seconds += Number(m[1]) * units[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(seconds * 1000)) throw new UsageError(`${what} ${JSON.stringify(text)} is too long`);
  return seconds * 1000;
}

function parseMaxAuthTries(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000) throw new UsageError(`${what} ${JSON.stringify(text)} is not a whole number from 1 to 1000`);
  return Number(text);
}

function maxStartupsOption(text: string): MaxStartups {
  try {
    return parseMaxStartups(text);
  } catch (err) {
    if (err instanceof MaxStartupsError) throw new UsageError(`-o MaxStartups ${err.message}`);
    throw err;
  }
}

function authMethodsOption(text: string, what: string): AuthMethodName[][] {
  try {
    return parseAuthMethods(text);
  } catch (err) {
    if (err instanceof AuthConfigError) throw new UsageError(`${what}: ${err.message}`);
    throw err;
  }
}

async function readConfigFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new Error(`cannot read ${what} ${path}: ${why}`);
  }
}

/** The certificate blob of a `*-cert.pub` file (the first line that is not a comment). */
async function readHostCertificate(path: string): Promise<Uint8Array> {
  const text = await readConfigFile(path, '--host-certificate');
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  if (line === undefined) throw new Error(`--host-certificate ${path} is empty; it should hold the -cert.pub line ssh-keygen -s CA -h wrote`);
  let cert;
  try {
    cert = parseCertificateLine(line).certificate;
  } catch (err) {
    throw new Error(`--host-certificate ${path} is not an OpenSSH certificate (${(err as Error).message}); give the -cert.pub file ssh-keygen -s CA -h wrote`);
  }
  if (cert.certType !== 'host') throw new Error(`--host-certificate ${path} is a user certificate; sign the host key with ssh-keygen -h`);
  if (cert.validBefore <= BigInt(Math.floor(Date.now() / 1000))) {
    process.stderr.write(`warning: host certificate ${path} expired at ${formatUnixTimeUtc(cert.validBefore)} UTC; clients will refuse it\n`);
  }
  return cert.blob;
}

export async function cmdServe(args: readonly string[]): Promise<number> {
  let listen = { host: '127.0.0.1', port: 2222 };
  const hostKeyPaths: string[] = [];
  let stateDir: string | null = null;
  let quiet = false;
  const algorithms: Record<string, string> = {};
  let authorizedKeys: string | null = null;
  let trustedUserCa: string | null = null;
  let passwordFile: string | null = null;
  let authMethods: AuthMethodName[][] | null = null;
  const allowUsers: string[] = [];
  let maxAuthTries: number | null = null;
  let bannerPath: string | null = null;
  const hostCertificatePaths: string[] = [];
  let loginGraceMs: number | null = null;
  let keepaliveIntervalMs: number | null = null;
  let keepaliveCountMax: number | null = null;
  let maxStartups: MaxStartups | null = null;
  const withValue = new Set(['--listen', '--host-key', '--state-dir', '-o', '--authorized-keys', '--trusted-user-ca', '--password-file', '--auth-methods', '--allow-user', '--max-auth-tries', '--banner', '--host-certificate']);
  const nonEmpty = (name: string, value: string) => {
    if (value === '') throw new UsageError(`${name} needs a file name`);
    return value;
  };
  for (const t of tokens(args, withValue)) {
    switch (t.name) {
      case '-h':
      case '--help':
        process.stdout.write(SERVE_HELP);
        return 0;
      case '--listen':
        listen = parseListen(t.value);
        break;
      case '--host-key':
        hostKeyPaths.push(t.value);
        break;
      case '--state-dir':
        if (t.value === '') throw new UsageError('--state-dir needs a directory');
        stateDir = t.value;
        break;
      case '--authorized-keys':
        authorizedKeys = nonEmpty(t.name, t.value);
        break;
      case '--trusted-user-ca':
        trustedUserCa = nonEmpty(t.name, t.value);
        break;
      case '--password-file':
        passwordFile = nonEmpty(t.name, t.value);
        break;
      case '--auth-methods':
        authMethods = authMethodsOption(t.value, '--auth-methods');
        break;
      case '--allow-user':
        allowUsers.push(t.value);
        break;
      case '--max-auth-tries':
        maxAuthTries = parseMaxAuthTries(t.value, '--max-auth-tries');
        break;
      case '--banner':
        bannerPath = nonEmpty(t.name, t.value);
        break;
      case '--host-certificate':
        hostCertificatePaths.push(nonEmpty(t.name, t.value));
        break;
      case '-q':
      case '--quiet':
        quiet = true;
        break;
      case '-o': {
        const { name, value } = splitOption(t.value);
        const lower = name.toLowerCase();
        if (lower === 'logingracetime') loginGraceMs = parseSshdTime(value, '-o LoginGraceTime');
        else if (lower === 'maxauthtries') maxAuthTries = parseMaxAuthTries(value, '-o MaxAuthTries');
        else if (lower === 'authenticationmethods') authMethods = authMethodsOption(value, '-o AuthenticationMethods');
        else if (lower === 'clientaliveinterval') keepaliveIntervalMs = parseSshdTime(value, '-o ClientAliveInterval');
        else if (lower === 'clientalivecountmax') keepaliveCountMax = parseMaxAuthTries(value, '-o ClientAliveCountMax');
        else if (lower === 'maxstartups') maxStartups = maxStartupsOption(value);
        else if (!algorithmOption(algorithms, name, value)) {
          throw new UsageError(`unsupported option -o ${name}; hermit serve supports KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms, LoginGraceTime, MaxAuthTries, AuthenticationMethods, ClientAliveInterval, ClientAliveCountMax and MaxStartups`);
        }
        break;
      }
      case null:
        throw new UsageError(`unexpected argument ${JSON.stringify(t.value)}; hermit serve takes options only`);
      default:
        throw new UsageError(`unknown option ${t.name}`);
    }
  }
  if (hostKeyPaths.length > 0 && stateDir !== null) {
    throw new UsageError('--state-dir only says where generated host keys go; it has no effect with --host-key (use one or the other)');
  }

  if (authMethods !== null) {
    try {
      checkAuthMethodStores(authMethods, { passwordFile: passwordFile !== null });
    } catch (err) {
      if (err instanceof AuthConfigError) throw new UsageError(err.message);
      throw err;
    }
  }
  // Host keys next: without them nothing else matters, and their errors should stand alone.
  const keys = hostKeyPaths.length > 0 ? await loadHostKeyFiles(hostKeyPaths) : await loadOrCreateHostKeys(stateDir ?? defaultStateDir());
  for (const k of keys) {
    if (k.created) process.stderr.write(`generated host key ${k.path}\n`);
    process.stdout.write(`${formatFingerprintLine(k.key.publicKey, k.path)}\n`);
  }
  const log = quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  let auth: ServerAuthPolicy;
  try {
    auth = await ServerAuthPolicy.create({
      ...(authorizedKeys !== null ? { authorizedKeysFile: authorizedKeys, authorizedKeysExplicit: true } : {}),
      ...(trustedUserCa !== null ? { trustedUserCaFile: trustedUserCa } : {}),
      ...(passwordFile !== null ? { passwordFile } : {}),
      ...(authMethods !== null ? { authMethods } : {}),
      allowUsers,
      ...(log ? { log } : {}),
      // Broken lines in the trust files matter even with -q: they silently lock someone out.
      warn: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    // A method without its store is a command-line mistake; an unreadable file is a failure.
    if (err instanceof AuthConfigError && err.usage) throw new UsageError(err.message);
    throw err;
  }
  const banner = bannerPath !== null ? await readConfigFile(bannerPath, '--banner') : null;
  const hostCertificates = await Promise.all(hostCertificatePaths.map(readHostCertificate));

  process.stdout.write(`authentication methods: ${formatAuthMethods(auth.chains)}\n`);
  let server;
  try {
    server = await serve({
      host: listen.host,
      port: listen.port,
      hostKeys: keys.map((k) => k.key),
      ...(Object.keys(algorithms).length > 0 ? { algorithms: algorithms as AlgorithmOptions } : {}),
      ...(log ? { log } : {}),
      auth,
      ...(maxAuthTries !== null ? { maxAuthTries } : {}),
      ...(banner !== null ? { banner } : {}),
      ...(hostCertificates.length > 0 ? { hostCertificates } : {}),
      ...(loginGraceMs !== null ? { loginGraceMs } : {}),
      ...(keepaliveIntervalMs !== null ? { keepaliveIntervalMs } : {}),
      ...(keepaliveCountMax !== null ? { keepaliveCountMax } : {}),
      ...(maxStartups !== null ? { maxStartups } : {}),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof SshUsageError) throw new UsageError(err.message);
    const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EADDRNOTAVAIL' ? 'address not available on this machine' : e.message;
    throw new Error(`cannot listen on ${formatAddress(listen.host, listen.port)}: ${why}`);
  }
  // Handlers first: whoever reads the line below may signal at once, and without a handler the
  // default action kills the process before the goodbyes go out.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write(`listening on ${formatAddress(server.host, server.port)}\n`);
  await stopped;
  return 0;
}

export const HASH_PASSWORD_HELP = `Usage: hermit hash-password [USER] < password

Print a password hash for hermit serve's --password-file: 'USER:HASH' when USER is given, else
just HASH. The password is the first line of standard input; from a terminal it is asked twice
with echo off. The hash is SHA-crypt ($6$, the format of /etc/shadow and 'openssl passwd -6')
with enough rounds that a leaked file is slow to attack.

Options:
  -h, --help     show this help.
`;

/** The first line of a non-terminal stdin, or two matching entries typed at the terminal. */
async function readNewPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    // An empty environment keeps SSH_ASKPASS out of it: this asks the person at the terminal.
    const first = await prompt({ prompt: 'New password: ', what: 'the password to hash' }, { env: {} });
    const second = first === null ? null : await prompt({ prompt: 'Retype new password: ', what: 'the password to hash' }, { env: {} });
    if (first === null || second === null) throw new Error('no password was entered');
    if (first !== second) throw new UsageError('the two passwords differ; nothing was printed');
    return first;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const end = text.indexOf('\n');
  return (end < 0 ? text : text.slice(0, end)).replace(/\r$/, '');
}

export async function cmdHashPassword(args: readonly string[]): Promise<number> {
  let user: string | null = null;
  for (const t of tokens(args, new Set())) {
    if (t.name === '-h' || t.name === '--help') {
      process.stdout.write(HASH_PASSWORD_HELP);
      return 0;
    }
    if (t.name !== null) throw new UsageError(`unknown option ${t.name}`);
    if (user !== null) throw new UsageError(`unexpected argument ${JSON.stringify(t.value)}; give at most one user name`);
    if (t.value === '' || /[\s:]/.test(t.value)) throw new UsageError(`${JSON.stringify(t.value)} is not a user name for the password file (no blanks or ':')`);
    user = t.value;
  }
  const password = await readNewPassword();
  if (password === '') throw new UsageError('the password is empty (hermit serve refuses empty passwords); give it on the first line of standard input');
  const hash = hashPasswordForFile(password);
  process.stdout.write(user === null ? `${hash}\n` : `${user}:${hash}\n`);
  return 0;
}
