/**
 * `hermit probe` authenticating for real against OpenSSH's sshd, as a local test user whose shell is
 * /bin/sh: every user key type, rsa-sha2-512, an encrypted key (passphrase via SSH_ASKPASS), a user
 * certificate (TrustedUserCAKeys), password and PAM keyboard-interactive (via SSH_ASKPASS), keys in
 * a real ssh-agent, and the host key side: a host certificate trusted through @cert-authority, and
 * changed, revoked, expired-certificate and wrong-principal hosts refused.
 *
 * The sshd instances are started here rather than with the harness's startSshd because sshd keeps
 * the first value of each keyword, and the harness pins `UsePAM no` (PAM is what offers
 * keyboard-interactive on Linux) and a single AuthorizedKeysFile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  cliPath,
  ensureBuilt,
  failEachTestWithoutOpenSsh,
  fingerprintOf,
  freePort,
  openSshBinaries,
  parseProbeOutput,
  run,
  runHermit,
  tempDir,
  type RunResult,
} from './openssh.ts';

/** Also created by .ci/run, with the same password. */
const TEST_USER = 'hermit-test';
const TEST_PASSWORD = 'hermit-interop-pw-7';
const PASSPHRASE = 'correct horse battery';

const haveOpenSsh = failEachTestWithoutOpenSsh();

let dir: string;
let home: string;
let askpass: string;
const sshds: PrivateSshd[] = [];
let main: PrivateSshd;
let rsa512Only: PrivateSshd;
let expiredCert: PrivateSshd;
let wrongPrincipal: PrivateSshd;
let agent: { socket: string; pid: number } | null = null;
/** ssh-keygen -lf fingerprints, by key name. */
const fp: Record<string, string> = {};
let hostFingerprint: string;

interface PrivateSshd {
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

/** sshd -D -e with exactly these settings (plus port, pid file and logging) on 127.0.0.1. */
async function startPrivateSshd(name: string, settings: readonly string[]): Promise<PrivateSshd> {
  const { sshd } = openSshBinaries();
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = join(dir, `sshd_${name}.conf`);
    await writeFile(
      config,
      [`Port ${port}`, 'ListenAddress 127.0.0.1', `PidFile ${join(dir, `sshd_${name}.pid`)}`, 'LogLevel DEBUG1', 'MaxStartups 200', 'MaxAuthTries 20', ...settings].join('\n') + '\n',
    );
    const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      if (output.length > 4 << 20) output = output.slice(-(2 << 20));
    });
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      const check = () => {
        if (output.includes(`Server listening on 127.0.0.1 port ${port}`)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stderr!.on('data', check);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) {
      const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      };
      const instance = { port, log: () => output, stop };
      sshds.push(instance);
      return instance;
    }
    lastOutput = output;
    child.kill('SIGKILL');
    if (!/Address already in use/.test(output)) break;
  }
  throw new Error(`sshd (${name}) did not start:\n${lastOutput}`);
}

async function keygen(args: readonly string[]): Promise<void> {
  const r = await run(openSshBinaries().sshKeygen, ['-q', ...args]);
  if (r.code !== 0) throw new Error(`ssh-keygen ${args.join(' ')} failed: ${r.stderr}`);
}

/** The test user with a known password; created when missing (needs root, as sshd itself does here). */
async function ensureTestUser(): Promise<void> {
  const exists = (await run('id', ['-u', TEST_USER])).code === 0;
  if (process.getuid?.() !== 0) {
    if (!exists) throw new Error(`the interop tests log in as "${TEST_USER}", which does not exist; create it as root: useradd -m -s /bin/sh ${TEST_USER} && echo '${TEST_USER}:${TEST_PASSWORD}' | chpasswd`);
    return;
  }
  if (!exists) {
    const r = await run('useradd', ['-m', '-s', '/bin/sh', TEST_USER]);
    if (r.code !== 0 && !/already exists/.test(r.stderr)) throw new Error(`useradd ${TEST_USER} failed: ${r.stderr}`);
  }
  const r = await run('chpasswd', [], { input: `${TEST_USER}:${TEST_PASSWORD}\n` });
  if (r.code !== 0) throw new Error(`chpasswd for ${TEST_USER} failed: ${r.stderr}`);
}

beforeAll(async () => {
  if (!haveOpenSsh) return;
  dir = await tempDir('client-auth');
  // sshd reads AuthorizedKeysFile as the user it logs in: the path must be open to them.
  await chmod(dir, 0o755);
  home = join(dir, 'home');
  await mkdir(join(dir, 'authorized_keys'), { recursive: true });
  await mkdir(home);
  await Promise.all([ensureBuilt(), ensureTestUser(), makeKeys()]);

  askpass = join(dir, 'askpass.sh');
  // Logs every prompt it is shown, so tests can check what was (and was not) asked.
  await writeFile(
    askpass,
    '#!/bin/sh\nprintf "%s\\n" "$1" >> "$ASKPASS_LOG"\ncase "$1" in\n  *passphrase*) printf "%s\\n" "$ASKPASS_PASSPHRASE" ;;\n  *) printf "%s\\n" "$ASKPASS_PASSWORD" ;;\nesac\n',
  );
  await chmod(askpass, 0o755);

  const authorized = ['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa', 'encrypted', 'agent_ecdsa', 'agent_rsa'];
  await writeFile(join(dir, 'authorized_keys', TEST_USER), (await Promise.all(authorized.map((k) => readFile(join(dir, `${k}.pub`), 'utf8')))).join(''));

  const common = [
    `HostKey ${join(dir, 'host_ed25519')}`,
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}/%u`,
    `TrustedUserCAKeys ${join(dir, 'user_ca.pub')}`,
  ];
  [main, rsa512Only, expiredCert, wrongPrincipal] = await Promise.all([
    startPrivateSshd('main', [...common, 'UsePAM yes', 'KbdInteractiveAuthentication yes', `HostCertificate ${join(dir, 'host_ed25519-cert.pub')}`]),
    startPrivateSshd('rsa512', [...common, 'UsePAM no', 'KbdInteractiveAuthentication no', 'PubkeyAcceptedAlgorithms rsa-sha2-512']),
    startPrivateSshd('expired', [...common, 'UsePAM no', `HostCertificate ${join(dir, 'host_expired-cert.pub')}`]),
    startPrivateSshd('principal', [...common, 'UsePAM no', `HostCertificate ${join(dir, 'host_other-cert.pub')}`]),
  ]);
  agent = await startAgent();
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(sshds.map((s) => s.stop()));
  if (agent) process.kill(agent.pid, 'SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function makeKeys(): Promise<void> {
  const k = (name: string, args: string[], passphrase = '') => keygen([...args, '-N', passphrase, '-C', `hermit-${name}`, '-f', join(dir, name)]);
  await Promise.all([
    k('host_ed25519', ['-t', 'ed25519']),
    k('host_ca', ['-t', 'ed25519']),
    k('user_ca', ['-t', 'ed25519']),
    k('other_host', ['-t', 'ed25519']),
    k('ed25519', ['-t', 'ed25519']),
    k('ecdsa256', ['-t', 'ecdsa', '-b', '256']),
    k('ecdsa384', ['-t', 'ecdsa', '-b', '384']),
    k('ecdsa521', ['-t', 'ecdsa', '-b', '521']),
    k('rsa', ['-t', 'rsa', '-b', '2048']),
    k('encrypted', ['-t', 'ed25519'], PASSPHRASE),
    k('encrypted_unauthorized', ['-t', 'ed25519'], PASSPHRASE),
    k('certified', ['-t', 'ed25519']),
    k('wrong', ['-t', 'ed25519']),
    // Used by one test each, to show from sshd's log that they were never offered.
    k('unsent1', ['-t', 'ed25519']),
    k('unsent2', ['-t', 'ed25519']),
    k('agent_ecdsa', ['-t', 'ecdsa', '-b', '256']),
    k('agent_rsa', ['-t', 'rsa', '-b', '2048']),
  ]);
  const hostPub = join(dir, 'host_ed25519.pub');
  const certify = async (name: string, args: string[]) => {
    // ssh-keygen writes KEY-cert.pub beside KEY.pub; copy the public key first to name the output.
    if (name !== 'host_ed25519') await writeFile(join(dir, `${name}.pub`), await readFile(hostPub, 'utf8'));
    await keygen(['-s', join(dir, 'host_ca'), '-h', '-I', `hermit ${name}`, ...args, join(dir, `${name}.pub`)]);
  };
  await Promise.all([
    certify('host_ed25519', ['-n', '127.0.0.1,localhost', '-V', '-5m:+1h']),
    certify('host_expired', ['-n', '127.0.0.1', '-V', '20200101:20200102']),
    certify('host_other', ['-n', 'other.example', '-V', '-5m:+1h']),
    keygen(['-s', join(dir, 'user_ca'), '-I', 'hermit user', '-n', TEST_USER, '-V', '-5m:+1h', join(dir, 'certified.pub')]),
  ]);
  for (const name of ['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa', 'encrypted', 'certified', 'wrong', 'agent_ecdsa', 'agent_rsa', 'other_host', 'host_ed25519', 'unsent1', 'unsent2']) {
    fp[name] = await fingerprintOf(join(dir, `${name}.pub`));
  }
  hostFingerprint = fp['host_ed25519']!;
}

async function startAgent(): Promise<{ socket: string; pid: number }> {
  const socket = join(dir, 'agent.sock');
  const r = await run('ssh-agent', ['-s', '-a', socket]);
  if (r.code !== 0) throw new Error(`ssh-agent failed: ${r.stderr}`);
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(r.stdout)?.[1]);
  if (!pid) throw new Error(`unexpected ssh-agent output: ${r.stdout}`);
  for (const key of ['agent_ecdsa', 'agent_rsa']) {
    const added = await run('ssh-add', [join(dir, key)], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    if (added.code !== 0) throw new Error(`ssh-add ${key} failed: ${added.stderr}`);
  }
  return { socket, pid };
}

// ---------------------------------------------------------------- running hermit probe

interface Probe extends RunResult {
  readonly report: Record<string, string>;
  /** The prompts the SSH_ASKPASS program was shown. */
  readonly asked: string[];
}

let counter = 0;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A key's .pub line without its newline. */
async function pub(name: string): Promise<string> {
  return (await readFile(join(dir, `${name}.pub`), 'utf8')).trim();
}

/** `hermit probe` as TEST_USER with a private HOME, known_hosts and environment. */
async function probe(
  sshd: PrivateSshd,
  args: readonly string[],
  options: { knownHosts?: string[]; knownHostsFile?: string; env?: Record<string, string>; strict?: string } = {},
): Promise<Probe> {
  const n = ++counter;
  const log = join(dir, `askpass_${n}.log`);
  let knownHosts = options.knownHostsFile;
  if (knownHosts === undefined) {
    knownHosts = join(dir, `known_hosts_${n}`);
    await writeFile(knownHosts, (options.knownHosts ?? [`[127.0.0.1]:${sshd.port} ${await pub('host_ed25519')}`]).join('\n') + '\n');
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    ASKPASS_LOG: log,
    ASKPASS_PASSWORD: TEST_PASSWORD,
    ASKPASS_PASSPHRASE: PASSPHRASE,
    ...options.env,
  };
  const r = await runHermit(
    [
      'probe',
      '-p',
      String(sshd.port),
      '-l',
      TEST_USER,
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=none',
      '-o',
      `StrictHostKeyChecking=${options.strict ?? 'yes'}`,
      ...args,
      '127.0.0.1',
    ],
    { env, timeoutMs: 60_000 },
  );
  const asked = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  return { ...r, report: parseProbeOutput(r.stdout), asked };
}

/**
 * Run `hermit probe` on a pseudo-terminal (util-linux `script`), answering each prompt when it
 * appears, as a user at a terminal would. Returns everything the terminal showed.
 */
async function probeOnTerminal(args: readonly string[], env: NodeJS.ProcessEnv, steps: ReadonlyArray<{ prompt: string; type: string }>): Promise<{ code: number | null; screen: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, cliPath, 'probe', ...args].map(quote).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  const pending = [...steps];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    const next = pending[0];
    if (next && screen.includes(next.prompt)) {
      pending.shift();
      child.stdin.write(next.type);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hermit probe on a terminal did not finish; the screen shows:\n${screen}`));
    }, 60_000);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (pending.length > 0) throw new Error(`hermit probe never showed the prompt ${JSON.stringify(pending[0]!.prompt)}; the screen shows:\n${screen}`);
  return { code, screen };
}

function askpassEnv(): Record<string, string> {
  return { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
}

function expectSuccess(p: Probe, method: string): void {
  if (p.code !== 0 || p.report['auth-result'] !== 'success') {
    throw new Error(`expected success with ${method}, got exit ${p.code}\nstdout: ${p.stdout}\nstderr: ${p.stderr}\nsshd log tail: ${main.log().slice(-3000)}`);
  }
  expect(p.report['auth-method']).toBe(method);
  expect(p.report['host-key-status']).toBe('known');
}

/** The sshd log lines for one key, found by its fingerprint. */
function logFor(sshd: PrivateSshd, fingerprint: string): string[] {
  return sshd.log().split('\n').filter((l) => l.includes(fingerprint));
}

describe.concurrent('hermit probe authenticates against OpenSSH sshd', () => {
  it.each([
    ['ed25519', 'ED25519', 'ssh-ed25519'],
    ['ecdsa256', 'ECDSA', 'ecdsa-sha2-nistp256'],
    ['ecdsa384', 'ECDSA', 'ecdsa-sha2-nistp384'],
    ['ecdsa521', 'ECDSA', 'ecdsa-sha2-nistp521'],
    ['rsa', 'RSA', 'rsa-sha2-512'],
  ])('publickey %s', async (name, label, algorithm) => {
    const p = await probe(main, ['-i', join(dir, name)]);
    expectSuccess(p, 'publickey');
    expect(p.report['auth-methods']).toBe('publickey,password,keyboard-interactive');
    expect(logFor(main, fp[name]!)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`userauth_pubkey: publickey test pkalg ${algorithm} pkblob ${label} ${fp[name]}`),
        expect.stringMatching(new RegExp(`Accepted publickey for ${TEST_USER} from 127\\.0\\.0\\.1 port \\d+ ssh2: ${label} ${escapeRegExp(fp[name]!)}\\s*$`)),
      ]),
    );
  });

  it('rsa-sha2-512 when sshd accepts nothing else', async () => {
    const p = await probe(rsa512Only, ['-i', join(dir, 'rsa')]);
    expect(p.stderr).toBe('');
    expect(p.report['auth-result']).toBe('success');
    expect(logFor(rsa512Only, fp['rsa']!)).toEqual(expect.arrayContaining([expect.stringContaining(`pkalg rsa-sha2-512 pkblob RSA ${fp['rsa']}`)]));
  });

  it('rsa-sha2-256 when the client is limited to it (-o PubkeyAcceptedAlgorithms)', async () => {
    // sshd 9.2 advertises every algorithm in server-sig-algs whatever it accepts, so the choice has to come from our side.
    const p = await probe(main, ['-i', join(dir, 'rsa'), '-o', 'PubkeyAcceptedAlgorithms=rsa-sha2-256']);
    expect(p.stderr).toBe('');
    expect(p.report['auth-result']).toBe('success');
    expect(logFor(main, fp['rsa']!)).toEqual(expect.arrayContaining([expect.stringContaining(`pkalg rsa-sha2-256 pkblob RSA ${fp['rsa']}`)]));
  });

  it('an encrypted key is decrypted with the SSH_ASKPASS passphrase, and only once the server accepts it', async () => {
    const p = await probe(main, ['-i', join(dir, 'encrypted_unauthorized'), '-i', join(dir, 'encrypted')], { env: askpassEnv() });
    expectSuccess(p, 'publickey');
    expect(p.asked).toEqual([`Enter passphrase for key '${join(dir, 'encrypted')}': `]);
    expect(logFor(main, fp['encrypted']!)).toEqual(expect.arrayContaining([expect.stringMatching(/Accepted publickey for hermit-test/)]));
  });

  it('BatchMode=yes asks nothing: an encrypted key is skipped and authentication fails', async () => {
    const p = await probe(main, ['-i', join(dir, 'encrypted'), '-o', 'BatchMode=yes'], { env: askpassEnv() });
    expect(p.code).toBe(0);
    expect(p.report['auth-result']).toBe('failure');
    expect(p.report['auth-method']).toBe('(none)');
    expect(p.asked).toEqual([]);
  });

  it('a user certificate (FILE-cert.pub beside FILE) trusted through TrustedUserCAKeys', async () => {
    const p = await probe(main, ['-i', join(dir, 'certified')]);
    expectSuccess(p, 'publickey');
    expect(logFor(main, fp['certified']!)).toEqual(
      expect.arrayContaining([expect.stringMatching(/Accepted publickey for hermit-test from 127\.0\.0\.1 port \d+ ssh2: ED25519-CERT SHA256:\S+ ID hermit user \(serial 0\) CA ED25519/)]),
    );
  });

  it('password, asked through SSH_ASKPASS', async () => {
    const p = await probe(main, ['-o', 'PreferredAuthentications=password'], { env: askpassEnv() });
    expectSuccess(p, 'password');
    expect(p.asked).toEqual([`${TEST_USER}@127.0.0.1's password: `]);
  });

  it('keyboard-interactive through PAM, answered through SSH_ASKPASS', async () => {
    const p = await probe(main, ['-o', 'PreferredAuthentications=keyboard-interactive'], { env: askpassEnv() });
    expectSuccess(p, 'keyboard-interactive');
    expect(p.asked).toEqual(['Password: ']);
    expect(main.log()).toMatch(/Accepted keyboard-interactive\/pam for hermit-test from 127\.0\.0\.1/);
  });

  it('password typed at the terminal, with echo off', async () => {
    const knownHosts = join(dir, 'known_hosts_terminal_password');
    await writeFile(knownHosts, `[127.0.0.1]:${main.port} ${await pub('host_ed25519')}\n`);
    const args = ['-p', String(main.port), '-l', TEST_USER, '-o', 'PreferredAuthentications=password', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '127.0.0.1'];
    const { code, screen } = await probeOnTerminal(args, { PATH: process.env['PATH'] ?? '', HOME: home, TERM: 'dumb' }, [
      { prompt: `${TEST_USER}@127.0.0.1's password: `, type: `${TEST_PASSWORD}\r` },
    ]);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/auth-result: success\r?\n/);
    expect(screen).toMatch(/auth-method: password\r?\n/);
    expect(screen).not.toContain(TEST_PASSWORD);
  });

  it('a wrong password is asked NumberOfPasswordPrompts times, then reported as a failure', async () => {
    const p = await probe(main, ['-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=2'], { env: { ...askpassEnv(), ASKPASS_PASSWORD: 'not-the-password' } });
    expect(p.code).toBe(0);
    expect(p.report['auth-result']).toBe('failure');
    expect(p.asked).toHaveLength(2);
  });

  it('keys held by ssh-agent are signed by the agent (rsa-sha2-512 flag for RSA)', async () => {
    const p = await probe(main, [], { env: { SSH_AUTH_SOCK: agent!.socket } });
    expectSuccess(p, 'publickey');
    // ssh-add order: the ECDSA key is offered and accepted first.
    expect(logFor(main, fp['agent_ecdsa']!)).toEqual(expect.arrayContaining([expect.stringMatching(/Accepted publickey for hermit-test/)]));
    // IdentitiesOnly: of the agent's keys only the -i one (given by its public half) is offered.
    const rsa = await probe(main, ['-o', 'IdentitiesOnly=yes', '-i', join(dir, 'agent_rsa.pub')], { env: { SSH_AUTH_SOCK: agent!.socket } });
    expectSuccess(rsa, 'publickey');
    const lines = logFor(main, fp['agent_rsa']!);
    expect(lines).toEqual(expect.arrayContaining([expect.stringContaining(`pkalg rsa-sha2-512 pkblob RSA ${fp['agent_rsa']}`), expect.stringMatching(/Accepted publickey for hermit-test/)]));
  });

  it('-A fails loudly when there is no agent', async () => {
    const p = await probe(main, ['-A']);
    expect(p.code).toBe(1);
    expect(p.stdout).toBe('');
    expect(p.stderr).toMatch(/-A asks for the agent but SSH_AUTH_SOCK is not set/);
  });

  it('a key the server does not accept: auth-result failure, the methods named', async () => {
    const p = await probe(main, ['-i', join(dir, 'wrong'), '-o', 'BatchMode=yes']);
    expect(p.code).toBe(0);
    expect(p.report['auth-result']).toBe('failure');
    expect(p.report['auth-method']).toBe('(none)');
    expect(p.report['auth-methods']).toBe('publickey,password,keyboard-interactive');
    expect(logFor(main, fp['wrong']!)).toEqual(expect.arrayContaining([expect.stringContaining('publickey test pkalg ssh-ed25519')]));
    expect(logFor(main, fp['wrong']!).join('\n')).not.toMatch(/Accepted publickey/);
  });

  it('--json carries auth-result, auth-method and host-key-status', async () => {
    const p = await probe(main, ['--json', '-i', join(dir, 'ed25519')]);
    expect(p.code).toBe(0);
    const report = JSON.parse(p.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ 'auth-result': 'success', 'auth-method': 'publickey', 'host-key-status': 'known', 'host-key-fingerprint': hostFingerprint });
    const failed = await probe(main, ['--json', '-i', join(dir, 'wrong'), '-o', 'BatchMode=yes']);
    expect(JSON.parse(failed.stdout)).toMatchObject({ 'auth-result': 'failure', 'auth-method': null });
  });
});

describe.concurrent('hermit probe checks the host key', () => {
  const caLine = async (port: number) => `@cert-authority [127.0.0.1]:${port} ${await pub('host_ca')}`;

  it('trusts a host certificate through an @cert-authority line', async () => {
    const p = await probe(main, ['-i', join(dir, 'ed25519')], { knownHosts: [await caLine(main.port)] });
    expect(p.stderr).toBe('');
    expect(p.report['host-key-algorithm']).toBe('ssh-ed25519-cert-v01@openssh.com');
    expect(p.report['host-key-fingerprint']).toBe(hostFingerprint);
    expect(p.report['host-key-status']).toBe('certificate');
    expect(p.report['auth-result']).toBe('success');
  });

  it('refuses a changed key, naming the file:line and both fingerprints', async () => {
    const p = await probe(main, ['-i', join(dir, 'unsent1')], { knownHosts: [`[127.0.0.1]:${main.port} ${await pub('other_host')}`] });
    expect(p.code).toBe(1);
    expect(p.stdout).toBe('');
    expect(p.stderr).toMatch(/^hermit probe: Host key verification failed\. The host key of \[127\.0\.0\.1\]:\d+ has changed/);
    expect(p.stderr).toContain(hostFingerprint);
    expect(p.stderr).toContain(fp['other_host']!);
    expect(p.stderr).toMatch(/known_hosts_\d+:1\b/);
    expect(logFor(main, fp['unsent1']!)).toEqual([]);
  });

  it('refuses a revoked host key', async () => {
    const hostPub = await pub('host_ed25519');
    const p = await probe(main, ['-i', join(dir, 'unsent1')], { knownHosts: [`[127.0.0.1]:${main.port} ${hostPub}`, `@revoked * ${hostPub}`], strict: 'no' });
    expect(p.code).toBe(1);
    expect(p.stdout).toBe('');
    expect(p.stderr).toMatch(/marked @revoked in \S+known_hosts_\d+:2/);
  });

  it('refuses an expired host certificate', async () => {
    const p = await probe(expiredCert, [], { knownHosts: [await caLine(expiredCert.port)] });
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/no host key is known for \[127\.0\.0\.1\]:\d+/);
    expect(p.stderr).toMatch(/host certificate .* was not accepted: certificate expired at 2020-01-02/);
  });

  it('refuses a host certificate for other names', async () => {
    const p = await probe(wrongPrincipal, [], { knownHosts: [await caLine(wrongPrincipal.port)] });
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/"127\.0\.0\.1" is not a principal of this certificate \(other\.example\)/);
  });

  it('asks about an unknown host on the terminal, and records it after "yes"', async () => {
    const knownHosts = join(dir, 'known_hosts_terminal_ask');
    const args = ['-p', String(main.port), '-l', TEST_USER, '-i', join(dir, 'ed25519'), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'HostKeyAlgorithms=ssh-ed25519', '127.0.0.1'];
    const { code, screen } = await probeOnTerminal(args, { PATH: process.env['PATH'] ?? '', HOME: home, TERM: 'dumb' }, [
      { prompt: 'Are you sure you want to continue connecting (yes/no/[fingerprint])? ', type: 'yes\r' },
    ]);
    expect(code, screen).toBe(0);
    expect(screen).toContain(`The authenticity of host '[127.0.0.1]:${main.port}' can't be established.`);
    expect(screen).toContain(`ssh-ed25519 key fingerprint is ${hostFingerprint}.`);
    expect(screen).toMatch(/host-key-status: added\r?\n/);
    expect(screen).toMatch(/auth-result: success\r?\n/);
    expect(await readFile(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${main.port} ${(await pub('host_ed25519')).split(' ').slice(0, 2).join(' ')}\n`);
  });

  it('accept-new records an unknown host and the next probe knows it', async () => {
    const knownHostsFile = join(dir, 'known_hosts_accept_new');
    const args = ['-i', join(dir, 'ed25519'), '-o', 'HostKeyAlgorithms=ssh-ed25519'];
    const first = await probe(main, args, { strict: 'accept-new', knownHostsFile });
    expect(first.report['host-key-status']).toBe('added');
    expect(first.stderr).toMatch(/Permanently added '\[127\.0\.0\.1\]:\d+' \(ssh-ed25519\)/);
    expect(await readFile(knownHostsFile, 'utf8')).toBe(`[127.0.0.1]:${main.port} ${(await pub('host_ed25519')).split(' ').slice(0, 2).join(' ')}\n`);
    const second = await probe(main, args, { strict: 'yes', knownHostsFile });
    expect(second.report['host-key-status']).toBe('known');
    expect(second.report['auth-result']).toBe('success');
  });

  it('without StrictHostKeyChecking and nobody to ask: reports the unknown host and sends no credentials', async () => {
    const n = ++counter;
    const r = await runHermit(['probe', '-p', String(main.port), '-l', TEST_USER, '-i', join(dir, 'unsent2'), '-o', `UserKnownHostsFile=${join(dir, `empty_${n}`)}`, '127.0.0.1'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = parseProbeOutput(r.stdout);
    expect(report['host-key-status']).toBe('unverified');
    expect(report['auth-result']).toBe('failure');
    expect(logFor(main, fp['unsent2']!)).toEqual([]);
  });
});
