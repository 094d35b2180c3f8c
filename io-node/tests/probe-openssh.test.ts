/**
 * `hermit probe` (our client) against OpenSSH's sshd: every key exchange, cipher, MAC and host key
 * algorithm both sides implement. sshd enables everything; the probe offers exactly one algorithm
 * of the kind under test, so the report must name that algorithm.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SETUP_TIMEOUT_MS,
  failEachTestWithoutOpenSsh,
  ALL_CIPHERS,
  ALL_HOST_KEY_ALGORITHMS,
  ALL_KEX_OPENSSH,
  ALL_MACS,
  SSHD_AUTH_METHODS,
  ensureBuilt,
  freePort,
  keyForAlgorithm,
  makeHostKeys,
  parseProbeOutput,
  runHermit,
  startSshd,
  type HostKeyFiles,
  type Sshd,
} from './openssh.ts';

const AEAD = new Set(['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com']);

let keys: HostKeyFiles;
let sshd: Sshd;
let chachaOnly: Sshd;

const haveOpenSsh = failEachTestWithoutOpenSsh();

beforeAll(async () => {
  if (!haveOpenSsh) return;
  const [built, k] = await Promise.all([ensureBuilt(), makeHostKeys()]);
  expect(built).toMatch(/cli\.js$/);
  keys = k;
  [sshd, chachaOnly] = await Promise.all([startSshd({ keys }), startSshd({ keys, ciphers: ['chacha20-poly1305@openssh.com'] })]);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([sshd?.stop(), chachaOnly?.stop()]);
});

async function probeSshd(options: string[]): Promise<Record<string, string>> {
  const r = await runHermit(['probe', '-p', String(sshd.port), '-l', 'hermit-probe', '-o', 'StrictHostKeyChecking=no', ...options, '127.0.0.1']);
  if (r.code !== 0) throw new Error(`hermit probe ${options.join(' ')} exited ${r.code}: ${r.stderr}\nsshd log tail: ${sshd.log().slice(-2000)}`);
  expect(r.stderr).toBe('');
  const report = parseProbeOutput(r.stdout);
  // What every successful probe of this sshd must show, whatever was negotiated.
  expect(report['server-version']).toMatch(/^SSH-2\.0-OpenSSH_9\./);
  expect(report['strict-kex']).toBe('yes');
  expect(report['server-sig-algs']?.split(',')).toEqual(expect.arrayContaining(['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256']));
  expect(report['auth-methods']).toBe(SSHD_AUTH_METHODS);
  return report;
}

describe.concurrent('hermit probe against OpenSSH sshd', () => {
  it.each(ALL_KEX_OPENSSH)('kex %s', async (kex) => {
    const report = await probeSshd(['-o', `KexAlgorithms=${kex}`]);
    expect(report['kex']).toBe(kex);
    expect(report['host-key-algorithm']).toBe('ssh-ed25519');
    expect(report['host-key-fingerprint']).toBe(keys.fingerprints.ed25519);
  });

  it.each(ALL_CIPHERS)('cipher %s', async (cipher) => {
    const report = await probeSshd(['-o', `Ciphers=${cipher}`]);
    expect(report['cipher-c2s']).toBe(cipher);
    expect(report['cipher-s2c']).toBe(cipher);
    const mac = AEAD.has(cipher) ? '<implicit>' : 'hmac-sha2-256-etm@openssh.com';
    expect(report['mac-c2s']).toBe(mac);
    expect(report['mac-s2c']).toBe(mac);
  });

  it.each(ALL_MACS)('MAC %s with aes128-ctr', async (mac) => {
    const report = await probeSshd(['-o', 'Ciphers=aes128-ctr', '-o', `MACs=${mac}`]);
    expect(report['cipher-c2s']).toBe('aes128-ctr');
    expect(report['mac-c2s']).toBe(mac);
    expect(report['mac-s2c']).toBe(mac);
  });

  it.each(ALL_HOST_KEY_ALGORITHMS)('host key algorithm %s', async (alg) => {
    const report = await probeSshd(['-o', `HostKeyAlgorithms=${alg}`]);
    expect(report['host-key-algorithm']).toBe(alg);
    expect(report['host-key-fingerprint']).toBe(keys.fingerprints[keyForAlgorithm[alg]!]);
  });

  it('--json prints the same report as one object', async () => {
    const r = await runHermit(['probe', '-p', String(sshd.port), '--json', '-o', 'Ciphers=aes256-gcm@openssh.com', 'someone@127.0.0.1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report['server-version']).toMatch(/^SSH-2\.0-OpenSSH_9\./);
    expect(report['cipher-c2s']).toBe('aes256-gcm@openssh.com');
    expect(report['mac-s2c']).toBe('<implicit>');
    expect(report['strict-kex']).toBe(true);
    expect(report['host-key-fingerprint']).toBe(keys.fingerprints.ed25519);
    expect(report['auth-methods']).toEqual(SSHD_AUTH_METHODS.split(','));
    expect(report['server-sig-algs']).toEqual(expect.arrayContaining(['ssh-ed25519']));
  });

  it('fails with both offers when there is no common cipher', async () => {
    const r = await runHermit(['probe', '-p', String(chachaOnly.port), '-o', 'Ciphers=aes128-ctr', '127.0.0.1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no common cipher/);
    expect(lines[0]).toMatch(/client offers: aes128-ctr\b/);
    expect(lines[0]).toMatch(/server offers: chacha20-poly1305@openssh\.com\b/);
  });

  it('reports a refused connection in one line', async () => {
    const port = await freePort();
    const r = await runHermit(['probe', '-p', String(port), '127.0.0.1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`hermit probe: cannot connect to 127.0.0.1 port ${port}: connection refused`);
  });

  it('reports a server that never answers as a timeout in one line', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const r = await runHermit(['probe', '-p', String(port), '--timeout', '1', '127.0.0.1']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^hermit probe: 127\.0\.0\.1 port \d+: timed out after 1 s waiting for the key exchange$/m);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });
});
