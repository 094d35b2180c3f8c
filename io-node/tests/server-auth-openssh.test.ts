/**
 * OpenSSH's `ssh` logging in to `hermit serve`: every key type and RSA signature hash, user
 * certificates from a trusted CA and from a cert-authority line, password and keyboard-interactive
 * (answered by an SSH_ASKPASS script, with no terminal), a method chain, and the refusals an
 * operator relies on (wrong key, expired/wrong-principal/untrusted certificates, from=,
 * expiry-time, MaxAuthTries, LoginGraceTime).
 *
 * Success is read from `ssh -v`: 'Authenticated to 127.0.0.1 ([127.0.0.1]:PORT) using "METHOD"'.
 * hermit serve does not run sessions yet (it refuses every channel open), so the remote command
 * itself cannot run and ssh's exit status says nothing about authentication; we assert the
 * authentication, never the exit code of a successful login. Each outcome is also checked in hermit's log, which names
 * the key, the algorithm and the reason for a refusal.
 */
import { appendFile, chmod, copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  cliPath,
  ensureBuilt,
  failEachTestWithoutOpenSsh,
  fingerprintOf,
  openSshBinaries,
  run,
  runHermit,
  startHermitServe,
  tempDir,
  type HermitServer,
  type RunResult,
} from './openssh.ts';

const USER = userInfo().username;
const PASSWORD = 'hermit interop pw';
const BANNER = 'hermit test banner: authorised use only';

let dir: string;
/** Private key paths by name; `${path}.pub` beside each. */
const key: Record<string, string> = {};
const fp: Record<string, string> = {};
/** Certificate files (for `-o CertificateFile=`), all certifying key.cert. */
const cert: Record<string, string> = {};

let main: HermitServer;
let chain: HermitServer;
let strict: HermitServer;
let grace: HermitServer;

const haveOpenSsh = failEachTestWithoutOpenSsh();

async function keygen(args: string[]): Promise<void> {
  const r = await run(openSshBinaries().sshKeygen, args);
  if (r.code !== 0) throw new Error(`ssh-keygen ${args.join(' ')} failed: ${r.stderr}`);
}

async function makeKey(name: string, type: string[]): Promise<void> {
  key[name] = join(dir, name);
  await keygen(['-q', '-N', '', '-C', `hermit-test-${name}`, ...type, '-f', key[name]]);
  fp[name] = await fingerprintOf(key[name]);
}

/** `ssh-keygen -s CA` on a copy of the certified key's .pub, so that each certificate has its own file. */
async function makeCert(name: string, ca: string, args: string[]): Promise<void> {
  const pub = join(dir, `${name}.pub`);
  await copyFile(`${key['cert']}.pub`, pub);
  await keygen(['-q', '-s', key[ca]!, '-I', `hermit-${name}`, ...args, pub]);
  cert[name] = join(dir, `${name}-cert.pub`);
}

beforeAll(async () => {
  if (!haveOpenSsh) return;
  dir = await tempDir('server-auth');
  const types: Record<string, string[]> = {
    host: ['-t', 'ed25519'],
    ed25519: ['-t', 'ed25519'],
    ecdsa256: ['-t', 'ecdsa', '-b', '256'],
    ecdsa384: ['-t', 'ecdsa', '-b', '384'],
    ecdsa521: ['-t', 'ecdsa', '-b', '521'],
    // 2048 bits: generated in a fraction of the time of 3072, and the signature hashes are what is under test.
    rsa: ['-t', 'rsa', '-b', '2048'],
    wrong: ['-t', 'ed25519'],
    fromKey: ['-t', 'ed25519'],
    expiredKey: ['-t', 'ed25519'],
    cert: ['-t', 'ed25519'],
    ca: ['-t', 'ed25519'],
    otherCa: ['-t', 'ed25519'],
    opsCa: ['-t', 'ecdsa', '-b', '256'],
    hostCa: ['-t', 'ed25519'],
    chainKey: ['-t', 'ed25519'],
  };
  await Promise.all([ensureBuilt(), ...Object.entries(types).map(([name, t]) => makeKey(name, t))]);
  await Promise.all([
    makeCert('good', 'ca', ['-n', USER, '-V', '-5m:+1h']),
    makeCert('expired', 'ca', ['-n', USER, '-V', '20200101:20200102']),
    makeCert('wrongPrincipal', 'ca', ['-n', 'someone-else', '-V', '-5m:+1h']),
    makeCert('untrusted', 'otherCa', ['-n', USER, '-V', '-5m:+1h']),
    makeCert('ops', 'opsCa', ['-n', 'ops', '-V', '-5m:+1h']),
  ]);
  // The host certificate certifies the host key for the name ssh connects to.
  await keygen(['-q', '-s', key['hostCa']!, '-h', '-I', 'hermit-host', '-n', '127.0.0.1', '-V', '-5m:+1h', `${key['host']}.pub`]);

  const pub = async (name: string) => (await readFile(`${key[name]}.pub`, 'utf8')).trim();
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(
    authorizedKeys,
    [
      '# keys that may log in',
      ...(await Promise.all(['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa', 'chainKey'].map(pub))),
      `from="10.0.0.0/8" ${await pub('fromKey')}`,
      `expiry-time="20200101Z" ${await pub('expiredKey')}`,
      `cert-authority,principals="ops" ${await pub('opsCa')}`,
      '',
    ].join('\n'),
  );
  const caFile = join(dir, 'user_ca.pub');
  await copyFile(`${key['ca']}.pub`, caFile);
  // The password file is made by hermit's own helper, reading the password from stdin.
  const hashed = await run(process.execPath, [cliPath, 'hash-password', USER], { input: `${PASSWORD}\n` });
  if (hashed.code !== 0) throw new Error(`hermit hash-password failed: ${hashed.stderr}`);
  const line = hashed.stdout.trim();
  expect(line).toMatch(new RegExp(`^${esc(USER)}:\\$6\\$`));
  const passwordFile = join(dir, 'passwords');
  await writeFile(passwordFile, `${line}\nalice:${line.slice(USER.length + 1)}\n`, { mode: 0o600 });
  const bannerFile = join(dir, 'banner');
  await writeFile(bannerFile, `${BANNER}\n`);

  const common = ['--host-key', key['host']!, '--authorized-keys', authorizedKeys, '--password-file', passwordFile];
  [main, chain, strict, grace] = await Promise.all([
    startHermitServe([...common, '--trusted-user-ca', caFile, '--allow-user', 'alice', '--banner', bannerFile, '--host-certificate', `${key['host']}-cert.pub`]),
    startHermitServe([...common, '--auth-methods', 'publickey,password']),
    startHermitServe([...common, '--max-auth-tries', '2']),
    startHermitServe([...common, '-o', 'LoginGraceTime=2']),
  ]);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  for (const s of [main, chain, strict, grace]) if (s) expect(await s.stop()).toBe(0);
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface SshRun extends RunResult {
  /** Every prompt ssh passed to the askpass program. */
  readonly prompts: string[];
}

let askpassCounter = 0;

/**
 * `ssh -v USER@127.0.0.1 true` with a private configuration. With `password`, ssh runs without a
 * terminal (setsid) and gets the password from an SSH_ASKPASS script that also records its prompts.
 */
async function ssh(server: HermitServer, options: string[], login: { user?: string; password?: string } = {}): Promise<SshRun> {
  const { ssh: sshBin } = openSshBinaries();
  // ssh keeps the first value given for an option, so the test's own options go before the defaults.
  const args = [
    '-v',
    '-F',
    '/dev/null',
    ...options,
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'ConnectTimeout=20',
    '-p',
    String(server.port),
    `${login.user ?? USER}@127.0.0.1`,
    'true',
  ];
  if (login.password === undefined) return { ...(await run(sshBin, ['-o', 'BatchMode=yes', ...args])), prompts: [] };
  const n = ++askpassCounter;
  const promptLog = join(dir, `prompts-${n}`);
  const askpass = join(dir, `askpass-${n}.sh`);
  await writeFile(promptLog, '');
  await writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${promptLog}'\nprintf '%s\\n' '${login.password}'\n`);
  await chmod(askpass, 0o700);
  const env = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: process.env['DISPLAY'] ?? ':0' };
  // setsid: no controlling terminal, so ssh cannot read /dev/tty and must use the askpass program.
  const r = await run('setsid', ['-w', sshBin, '-o', 'BatchMode=no', ...args], { env });
  const prompts = (await readFile(promptLog, 'utf8')).split('\n').filter((l) => l !== '');
  return { ...r, prompts };
}

function authenticated(server: HermitServer, method: string): RegExp {
  return new RegExp(`Authenticated to 127\\.0\\.0\\.1 \\(\\[127\\.0\\.0\\.1\\]:${server.port}\\) using "${method}"`);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** hermit's log line matching `pattern`; the log is written asynchronously, so wait for it briefly. */
async function logLine(server: HermitServer, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const line = server.output().stderr.split('\n').find((l) => pattern.test(l));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`hermit serve logged nothing matching ${pattern}; its log:\n${server.output().stderr.slice(-4000)}`);
}

describe.concurrent('ssh logs in to hermit serve', () => {
  it.each([
    ['ed25519', 'ED25519', 'ssh-ed25519', []],
    ['ecdsa256', 'ECDSA', 'ecdsa-sha2-nistp256', []],
    ['ecdsa384', 'ECDSA', 'ecdsa-sha2-nistp384', []],
    ['ecdsa521', 'ECDSA', 'ecdsa-sha2-nistp521', []],
    ['rsa', 'RSA', 'rsa-sha2-256', ['-o', 'PubkeyAcceptedAlgorithms=rsa-sha2-256']],
    ['rsa', 'RSA', 'rsa-sha2-512', ['-o', 'PubkeyAcceptedAlgorithms=rsa-sha2-512']],
  ] as const)('publickey %s as %s', async (name, label, algorithm, extra) => {
    const r = await ssh(main, ['-o', 'PreferredAuthentications=publickey', '-i', key[name]!, ...extra]);
    expect(r.stderr, r.stderr).toMatch(authenticated(main, 'publickey'));
    await logLine(main, new RegExp(`^Accepted publickey for ${esc(USER)} from 127\\.0\\.0\\.1 port \\d+ ssh2: ${label} ${esc(fp[name]!)} \\(${algorithm}\\)$`));
  });

  it('a user certificate signed by ssh-keygen -s, with --trusted-user-ca', async () => {
    const r = await ssh(main, ['-o', 'PreferredAuthentications=publickey', '-i', key['cert']!, '-o', `CertificateFile=${cert['good']}`]);
    expect(r.stderr, r.stderr).toMatch(authenticated(main, 'publickey'));
    await logLine(main, new RegExp(`^Accepted publickey for ${esc(USER)} from .* ssh2: ED25519-CERT ${esc(fp['cert']!)} ID "hermit-good" \\(serial 0\\) CA ED25519 ${esc(fp['ca']!)} \\(ssh-ed25519-cert-v01@openssh\\.com\\)$`));
  });

  it('a user certificate from a cert-authority line whose principals= it matches', async () => {
    const r = await ssh(main, ['-o', 'PreferredAuthentications=publickey', '-i', key['cert']!, '-o', `CertificateFile=${cert['ops']}`]);
    expect(r.stderr, r.stderr).toMatch(authenticated(main, 'publickey'));
    await logLine(main, new RegExp(`^Accepted publickey for ${esc(USER)} .* ID "hermit-ops" .* CA ECDSA ${esc(fp['opsCa']!)}`));
  });

  it('password via SSH_ASKPASS, for an --allow-user name; the banner is shown first', async () => {
    const r = await ssh(main, ['-o', 'PreferredAuthentications=password'], { user: 'alice', password: PASSWORD });
    expect(r.stderr, r.stderr).toMatch(authenticated(main, 'password'));
    expect(r.stderr).toContain(BANNER);
    expect(r.prompts).toEqual(["alice@127.0.0.1's password: "]);
    await logLine(main, /^Accepted password for alice from 127\.0\.0\.1 port \d+ ssh2$/);
  });

  it('keyboard-interactive via SSH_ASKPASS: one "Password: " prompt', async () => {
    const r = await ssh(main, ['-o', 'PreferredAuthentications=keyboard-interactive'], { password: PASSWORD });
    expect(r.stderr, r.stderr).toMatch(authenticated(main, 'keyboard-interactive'));
    expect(r.prompts).toHaveLength(1);
    expect(r.prompts[0]).toMatch(/Password: $/);
    await logLine(main, new RegExp(`^Accepted keyboard-interactive for ${esc(USER)} from 127\\.0\\.0\\.1 port \\d+ ssh2$`));
  });

  it('--auth-methods publickey,password: partial success with the key, then the password', async () => {
    const r = await ssh(chain, ['-o', 'PreferredAuthentications=publickey,password', '-i', key['chainKey']!], { password: PASSWORD });
    expect(r.stderr, r.stderr).toMatch(/Authenticated using "publickey" with partial success/);
    expect(r.stderr).toMatch(authenticated(chain, 'password'));
    await logLine(chain, new RegExp(`^Partial publickey for ${esc(USER)} .* ${esc(fp['chainKey']!)} `));
    await logLine(chain, new RegExp(`^Accepted password for ${esc(USER)} `));
  });

  it('the key alone does not complete publickey,password', async () => {
    const r = await ssh(chain, ['-o', 'PreferredAuthentications=publickey', '-i', key['ed25519']!]);
    expect(r.stderr).toMatch(/Authenticated using "publickey" with partial success/);
    expect(r.stderr).toMatch(/Permission denied \(password\)/);
    expect(r.stderr).not.toMatch(/Authenticated to/);
  });

  it('--host-certificate: ssh verifies the host certificate against its @cert-authority line', async () => {
    const knownHosts = join(dir, 'known_hosts_ca');
    // ssh looks a host on a non-default port up as [127.0.0.1]:PORT.
    await writeFile(knownHosts, `@cert-authority [127.0.0.1]:${main.port} ${(await readFile(`${key['hostCa']}.pub`, 'utf8')).trim()}\n`);
    const r = await ssh(main, [
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com',
      '-o',
      'PreferredAuthentications=publickey',
      '-i',
      key['ed25519']!,
    ]);
    expect(r.stderr, r.stderr).toMatch(/Server host certificate: ssh-ed25519-cert-v01@openssh\.com/);
    expect(r.stderr).toMatch(new RegExp(`Host '\\[127\\.0\\.0\\.1\\]:${main.port}' is known and matches the ED25519-CERT host certificate`));
    expect(r.stderr).toMatch(authenticated(main, 'publickey'));
  });
});

describe.concurrent('hermit serve refuses', () => {
  async function refusedKey(options: string[], logPattern: RegExp): Promise<void> {
    const r = await ssh(main, ['-o', 'PreferredAuthentications=publickey', ...options]);
    expect(r.stderr, r.stderr).toMatch(/Permission denied \(publickey,password,keyboard-interactive\)/);
    expect(r.stderr).not.toMatch(/Authenticated to/);
    expect(r.code).toBe(255);
    await logLine(main, logPattern);
  }

  it('a key that is not in authorized_keys', () => refusedKey(['-i', key['wrong']!], new RegExp(`^Failed publickey for ${esc(USER)} .* ${esc(fp['wrong']!)} \\(ssh-ed25519\\): key is not in `)));

  it('an expired certificate', () =>
    refusedKey(['-i', key['cert']!, '-o', `CertificateFile=${cert['expired']}`], /^Failed publickey .*ID "hermit-expired".*: certificate expired at 2020-01-02T00:00:00 \(UTC\)$/));

  it('a certificate for another principal', () =>
    refusedKey(['-i', key['cert']!, '-o', `CertificateFile=${cert['wrongPrincipal']}`], new RegExp(`^Failed publickey .*ID "hermit-wrongPrincipal".*: "${esc(USER)}" is not a principal of this certificate \\(someone-else\\)$`)));

  it('a certificate from an untrusted CA', () =>
    refusedKey(['-i', key['cert']!, '-o', `CertificateFile=${cert['untrusted']}`], new RegExp(`^Failed publickey .*ID "hermit-untrusted".*: certificate is signed by an untrusted CA \\(ED25519 ${esc(fp['otherCa']!)}\\)`)));

  it('from="10.0.0.0/8" for a client on 127.0.0.1', () => refusedKey(['-i', key['fromKey']!], /: [^ ]*authorized_keys:8: from="10\.0\.0\.0\/8" does not allow 127\.0\.0\.1$/));

  it('an authorized_keys entry whose expiry-time has passed', () => refusedKey(['-i', key['expiredKey']!], /authorized_keys:9: the key expired at 2020-01-01T00:00:00 UTC \(expiry-time\)$/));

  it('--max-auth-tries 2: the second wrong password ends the connection', async () => {
    const r = await ssh(strict, ['-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=3'], { password: 'not the password' });
    expect(r.stderr, r.stderr).toMatch(new RegExp(`Received disconnect from 127\\.0\\.0\\.1 port ${strict.port}:2: too many authentication failures for ${esc(USER)} \\(2\\)`));
    expect(r.stderr).not.toMatch(/Authenticated to/);
    // Two prompts, not three: the server hung up after the second failure.
    expect(r.prompts).toHaveLength(2);
    expect(r.code).toBe(255);
    await logLine(strict, /: closed: too many authentication failures/);
    expect(strict.output().stderr.split('\n').filter((l) => l.startsWith(`Failed password for ${USER} `))).toHaveLength(2);
  });

  it('-o LoginGraceTime=2: a client that sends only its version line is disconnected', async () => {
    const started = Date.now();
    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(grace.port, '127.0.0.1', () => socket.write('SSH-2.0-idle_test_client\r\n'));
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the server did not close an idle connection within 20 s'));
      }, 20_000).unref();
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1800);
    expect(elapsed).toBeLessThan(10_000);
    // After the identification line come cleartext packets (no keys yet): KEXINIT, then DISCONNECT.
    let offset = received.indexOf('\r\n') + 2;
    expect(received.subarray(0, offset).toString()).toMatch(/^SSH-2\.0-/);
    let disconnect: { reason: number; description: string } | null = null;
    while (offset + 5 <= received.length) {
      const length = received.readUInt32BE(offset);
      const padding = received[offset + 4]!;
      const payload = received.subarray(offset + 5, offset + 4 + length - padding);
      if (payload[0] === 1) {
        const descLength = payload.readUInt32BE(5);
        disconnect = { reason: payload.readUInt32BE(1), description: payload.subarray(9, 9 + descLength).toString() };
      }
      offset += 4 + length;
    }
    expect(disconnect).toEqual({ reason: 11, description: 'login grace time exceeded' });
    await logLine(grace, /: closed: login grace time exceeded/);
  });
});

describe.concurrent('hermit command-line helpers', () => {
  it('hermit hash-password prints a hash for the file and refuses an empty password', async () => {
    const [empty, plain] = await Promise.all([runHermit(['hash-password', 'zoe']), run(process.execPath, [cliPath, 'hash-password'], { input: 'secret\n' })]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/the password is empty/);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^\$6\$rounds=\d+\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}\n$/);
  });

  it('hermit keygen -t ed25519 -f F -N "": ssh-keygen reads the pair, and the key logs in once appended to authorized_keys', async () => {
    const file = join(dir, 'hermit_keygen_ed25519');
    const made = await runHermit(['keygen', '-t', 'ed25519', '-f', file, '-N', '', '-C', 'made-by-hermit']);
    expect(made.code, made.stderr).toBe(0);
    const derived = await run(openSshBinaries().sshKeygen, ['-y', '-f', file]);
    expect(derived.code, derived.stderr).toBe(0);
    const pubLine = (await readFile(`${file}.pub`, 'utf8')).trim();
    // ssh-keygen -y re-derives the public key from the private file: it must be the .pub hermit wrote.
    expect(derived.stdout.trim().split(' ').slice(0, 2)).toEqual(pubLine.split(' ').slice(0, 2));
    expect(pubLine).toMatch(/^ssh-ed25519 \S+ made-by-hermit$/);
    // authorized_keys is read per connection: the running server takes the new key without a restart.
    await appendFile(join(dir, 'authorized_keys'), `${pubLine}\n`);
    const r = await ssh(main, ['-o', 'PreferredAuthentications=publickey', '-i', file]);
    expect(r.stderr, r.stderr).toMatch(authenticated(main, 'publickey'));
    await logLine(main, new RegExp(`^Accepted publickey for ${esc(USER)} .* ${esc(await fingerprintOf(file))} \\(ssh-ed25519\\)$`));
  });

  it('hermit serve refuses contradictory or unreadable authentication settings', async () => {
    const hostKey = ['--host-key', key['host']!];
    const [noStore, missing, badTime, badMethod, badStartups] = await Promise.all([
      runHermit(['serve', ...hostKey, '--authorized-keys', join(dir, 'authorized_keys'), '--auth-methods', 'publickey,password']),
      runHermit(['serve', ...hostKey, '--authorized-keys', join(dir, 'nope')]),
      runHermit(['serve', ...hostKey, '-o', 'LoginGraceTime=soon']),
      runHermit(['serve', '--auth-methods', 'publickey,gssapi-with-mic']),
      runHermit(['serve', ...hostKey, '-o', 'MaxStartups=100:30:10']),
    ]);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toMatch(/authentication method password .* needs --password-file FILE/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--authorized-keys: cannot read authorized_keys file .*nope: it does not exist/);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toMatch(/LoginGraceTime "soon" is not a time/);
    expect(badMethod.code).toBe(2);
    expect(badMethod.stderr).toMatch(/unknown authentication method "gssapi-with-mic"/);
    expect(badStartups.code).toBe(2);
    expect(badStartups.stderr).toMatch(/-o MaxStartups "100:30:10": need 1 <= begin <= full/);
  });
});
