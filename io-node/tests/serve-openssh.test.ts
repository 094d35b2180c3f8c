/**
 * `hermit serve` (our server) against OpenSSH's `ssh` and `ssh-keyscan`, and against our own
 * `hermit probe` for the key exchanges OpenSSH 9.2 lacks (mlkem768x25519-sha256).
 *
 * `ssh -v` prints what it negotiated; each run offers one algorithm of the kind under test and must
 * reach the authentication stage ("Authentications that can continue") with exactly that algorithm.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  failEachTestWithoutOpenSsh,
  ALL_CIPHERS,
  ALL_HOST_KEY_ALGORITHMS,
  ALL_KEX_OPENSSH,
  ALL_MACS,
  ensureBuilt,
  keyForAlgorithm,
  makeHostKeys,
  openSshBinaries,
  parseProbeOutput,
  run,
  runHermit,
  startHermitServe,
  tempDir,
  type HermitServer,
  type HostKeyFiles,
} from './openssh.ts';

/** What the engine announces in USERAUTH_FAILURE by default. */
// Without --password-file, hermit serve only offers what a file backs: public keys.
const SERVE_AUTH_METHODS = 'publickey';
const AEAD = new Set(['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com']);

let keys: HostKeyFiles;
let server: HermitServer;

const haveOpenSsh = failEachTestWithoutOpenSsh();

beforeAll(async () => {
  if (!haveOpenSsh) return;
  const [, k] = await Promise.all([ensureBuilt(), makeHostKeys()]);
  keys = k;
  server = await startHermitServe([
    ...Object.values(keys.paths).flatMap((p) => ['--host-key', p]),
    // The SHA-1 algorithms are supported but off by default; the matrix needs them on.
    '-o',
    'HostKeyAlgorithms=+ssh-rsa',
    '-o',
    'MACs=+hmac-sha1,hmac-sha1-etm@openssh.com',
  ]);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  if (server) expect(await server.stop()).toBe(0);
  if (keys) await rm(keys.dir, { recursive: true, force: true });
});

interface SshReport {
  kex: string | undefined;
  hostKeyAlgorithm: string | undefined;
  c2s: { cipher: string; mac: string } | undefined;
  s2c: { cipher: string; mac: string } | undefined;
  serverHostKey: { type: string; fingerprint: string } | undefined;
  authMethods: string | undefined;
}

async function sshTo(options: string[]): Promise<SshReport> {
  const { ssh } = openSshBinaries();
  const r = await run(ssh, [
    '-v',
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=20',
    '-p',
    String(server.port),
    ...options,
    '-l',
    'hermit-test',
    '127.0.0.1',
    'true',
  ]);
  const err = r.stderr;
  const line = (re: RegExp) => re.exec(err) ?? undefined;
  const dir = (d: string) => {
    const m = line(new RegExp(`^debug1: kex: ${d} cipher: (\\S+) MAC: (\\S+) compression: \\S+`, 'm'));
    return m ? { cipher: m[1]!, mac: m[2]! } : undefined;
  };
  const hostKey = line(/^debug1: Server host key: (\S+) (SHA256:\S+)/m);
  const report: SshReport = {
    kex: line(/^debug1: kex: algorithm: (\S+)/m)?.[1],
    hostKeyAlgorithm: line(/^debug1: kex: host key algorithm: (\S+)/m)?.[1],
    c2s: dir('client->server'),
    s2c: dir('server->client'),
    serverHostKey: hostKey ? { type: hostKey[1]!, fingerprint: hostKey[2]! } : undefined,
    authMethods: line(/^debug1: Authentications that can continue: (\S+)/m)?.[1],
  };
  if (report.authMethods === undefined) {
    throw new Error(`ssh ${options.join(' ')} did not reach authentication (exit ${r.code}):\n${err}\nserver log: ${server.output().stderr.slice(-2000)}`);
  }
  // BatchMode with no usable credentials: ssh gives up after learning the methods.
  expect(err).toMatch(/Permission denied \(publickey\)/);
  expect(r.code).toBe(255);
  expect(report.authMethods).toBe(SERVE_AUTH_METHODS);
  return report;
}

describe.concurrent('OpenSSH ssh -v against hermit serve', () => {
  it.each(ALL_KEX_OPENSSH)('kex %s', async (kex) => {
    const r = await sshTo(['-o', `KexAlgorithms=${kex}`]);
    expect(r.kex).toBe(kex);
    expect(r.hostKeyAlgorithm).toBe('ssh-ed25519');
    expect(r.serverHostKey).toEqual({ type: 'ssh-ed25519', fingerprint: keys.fingerprints.ed25519 });
  });

  it.each(ALL_CIPHERS)('cipher %s', async (cipher) => {
    const r = await sshTo(['-o', `Ciphers=${cipher}`]);
    expect(r.c2s?.cipher).toBe(cipher);
    expect(r.s2c?.cipher).toBe(cipher);
    if (AEAD.has(cipher)) {
      expect(r.c2s?.mac).toBe('<implicit>');
      expect(r.s2c?.mac).toBe('<implicit>');
    }
  });

  it.each(ALL_MACS)('MAC %s with aes128-ctr', async (mac) => {
    const r = await sshTo(['-o', 'Ciphers=aes128-ctr', '-o', `MACs=${mac}`]);
    expect(r.c2s).toEqual({ cipher: 'aes128-ctr', mac });
    expect(r.s2c).toEqual({ cipher: 'aes128-ctr', mac });
  });

  it.each(ALL_HOST_KEY_ALGORITHMS)('host key algorithm %s', async (alg) => {
    const r = await sshTo(['-o', `HostKeyAlgorithms=${alg}`]);
    expect(r.hostKeyAlgorithm).toBe(alg);
    expect(r.serverHostKey?.fingerprint).toBe(keys.fingerprints[keyForAlgorithm[alg]!]);
  });
});

describe.concurrent('hermit probe against hermit serve', () => {
  it.each(['mlkem768x25519-sha256', ...ALL_KEX_OPENSSH])('kex %s', async (kex) => {
    const r = await runHermit(['probe', '-p', String(server.port), '-o', `KexAlgorithms=${kex}`, '127.0.0.1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = parseProbeOutput(r.stdout);
    expect(report['server-version']).toMatch(/^SSH-2\.0-hermit_/);
    expect(report['kex']).toBe(kex);
    expect(report['host-key-algorithm']).toBe('ssh-ed25519');
    expect(report['host-key-fingerprint']).toBe(keys.fingerprints.ed25519);
    expect(report['strict-kex']).toBe('yes');
    expect(report['server-sig-algs']?.split(',')).toEqual(expect.arrayContaining(['ssh-ed25519', 'rsa-sha2-256']));
    expect(report['auth-methods']).toBe(SERVE_AUTH_METHODS);
  });
});

describe('ssh-keyscan against hermit serve with generated host keys', () => {
  it('returns the three keys stored in the state directory', async () => {
    const { sshKeyscan } = openSshBinaries();
    const stateDir = await tempDir('state');
    const serve = await startHermitServe(['--state-dir', stateDir]);
    try {
      const r = await run(sshKeyscan, ['-p', String(serve.port), '-T', '20', '-t', 'ed25519,ecdsa,rsa', '127.0.0.1']);
      expect(r.code).toBe(0);
      const scanned = r.stdout
        .split('\n')
        .filter((l) => l.startsWith(`[127.0.0.1]:${serve.port} `))
        .map((l) => l.split(' ').slice(1, 3).join(' '))
        .sort();
      const stored = (
        await Promise.all(
          ['ssh_host_ed25519_key.pub', 'ssh_host_ecdsa_key.pub', 'ssh_host_rsa_key.pub'].map(async (f) => (await readFile(join(stateDir, f), 'utf8')).split(' ').slice(0, 2).join(' ')),
        )
      ).sort();
      expect(stored.map((s) => s.split(' ')[0])).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']);
      expect(scanned).toEqual(stored);
    } finally {
      expect(await serve.stop()).toBe(0);
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
