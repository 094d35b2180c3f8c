/**
 * The `hermit` command line as a user meets it: help, usage errors (exit 2 with a message saying
 * what to change), and `hermit serve`'s host keys (created once in the state directory, private,
 * reused, fingerprints as `ssh-keygen -lf` prints them).
 */
import { createServer } from 'node:net';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETUP_TIMEOUT_MS, ensureBuilt, failEachTestWithoutOpenSsh, fingerprintOf, runHermit, startHermitServe, tempDir } from './openssh.ts';

const dirs: string[] = [];

const haveOpenSsh = failEachTestWithoutOpenSsh();

beforeAll(async () => {
  if (!haveOpenSsh) return;
  await ensureBuilt();
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(prefix: string): Promise<string> {
  const d = await tempDir(prefix);
  dirs.push(d);
  return d;
}

/** A usage error: exit 2, nothing on stdout, the message and the pointer to --help on stderr. */
async function expectUsageError(args: string[], message: RegExp): Promise<void> {
  const r = await runHermit(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
}

describe.concurrent('hermit command line', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await runHermit(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hermit <command>/);
    expect(r.stdout).toMatch(/serve/);
    expect(r.stdout).toMatch(/probe/);
  });

  it('each command has --help', async () => {
    for (const command of ['serve', 'probe']) {
      const r = await runHermit([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: hermit ${command} `));
      expect(r.stdout).toMatch(/-o Name=value/);
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const r = await runHermit(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`hermit ${pkg.version}`);
  });

  it('no command is a usage error', async () => {
    const r = await runHermit([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: hermit <command>/);
  });

  it('rejects an unknown command', async () => {
    await expectUsageError(['connect'], /hermit: unknown command "connect"; commands: serve, probe/);
  });

  it('probe: missing host', async () => {
    await expectUsageError(['probe', '-p', '22'], /hermit probe: missing HOST, e\.g\. hermit probe -p 2222 127\.0\.0\.1\nTry 'hermit probe --help'/);
  });

  it('probe: unknown algorithm names the supported ones', async () => {
    await expectUsageError(['probe', '-o', 'Ciphers=aes128-cbc', '127.0.0.1'], /unsupported algorithm "aes128-cbc"; supported: chacha20-poly1305@openssh\.com,/);
  });

  it('probe: unknown -o option names the supported ones', async () => {
    await expectUsageError(['probe', '-o', 'ForwardAgent=yes', '127.0.0.1'], /unsupported option -o ForwardAgent; hermit probe supports KexAlgorithms/);
  });

  it('probe: -o without a value', async () => {
    await expectUsageError(['probe', '-o', 'Ciphers', '127.0.0.1'], /expected Name=value, e\.g\. -o Ciphers=aes128-ctr/);
  });

  it('probe: bad port', async () => {
    await expectUsageError(['probe', '-p', '70000', '127.0.0.1'], /-p "70000" is not a port number \(0-65535\)/);
  });

  it('probe: option missing its value', async () => {
    await expectUsageError(['probe', '127.0.0.1', '-p'], /option -p needs a value/);
  });

  it('probe: unknown flag', async () => {
    await expectUsageError(['probe', '--verbose', '127.0.0.1'], /unknown option --verbose/);
  });

  it('probe: an invalid StrictHostKeyChecking value names the valid ones', async () => {
    await expectUsageError(['probe', '-o', 'StrictHostKeyChecking=maybe', '127.0.0.1'], /StrictHostKeyChecking=maybe: expected yes, accept-new, no \(or off\) or ask/);
  });

  it('serve: bad --listen', async () => {
    await expectUsageError(['serve', '--listen', 'localhost'], /--listen "localhost": expected HOST:PORT, \[IPV6\]:PORT or PORT/);
  });

  it('serve: stray argument', async () => {
    await expectUsageError(['serve', 'now'], /unexpected argument "now"; hermit serve takes options only/);
  });

  it('serve: unsupported -o option', async () => {
    await expectUsageError(['serve', '-o', 'PermitRootLogin=no'], /unsupported option -o PermitRootLogin; hermit serve supports KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms/);
  });

  it('serve: a list that removes everything', async () => {
    await expectUsageError(['serve', '-o', 'KexAlgorithms=-*'], /KexAlgorithms=-\* removes every algorithm/);
  });

  it('serve: a missing --host-key file is a one-line failure (exit 1)', async () => {
    const dir = await scratch('nokey');
    const r = await runHermit(['serve', '--listen', '127.0.0.1:0', '--host-key', join(dir, 'absent')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not exist; create one with: ssh-keygen/);
  });

  it('serve: an address in use is a one-line failure (exit 1)', async () => {
    const dir = await scratch('busy');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runHermit(['serve', '--listen', `127.0.0.1:${port}`, '--state-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`hermit serve: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      busy.close();
    }
  });
});

describe('hermit serve host keys', () => {
  it('creates ed25519, ecdsa-p256 and rsa-3072 keys once, private, and reuses them', async () => {
    const stateDir = join(await scratch('state'), 'nested', 'hermit');
    const first = await startHermitServe(['--state-dir', stateDir]);
    const firstErr = first.output().stderr;
    expect(await first.stop()).toBe(0);

    const files = ['ssh_host_ed25519_key', 'ssh_host_ecdsa_key', 'ssh_host_rsa_key'].map((f) => join(stateDir, f));
    for (const f of files) expect(firstErr).toContain(`generated host key ${f}`);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    const expected: string[] = [];
    for (const [i, f] of files.entries()) {
      expect((await stat(f)).mode & 0o777).toBe(0o600);
      const fp = await fingerprintOf(f);
      expected.push(`${['256', '256', '3072'][i]} ${fp} ${f} (${['ED25519', 'ECDSA', 'RSA'][i]})`);
    }
    const printed = first.banner.split('\n').filter((l) => l.includes('SHA256:'));
    expect(printed).toEqual(expected);
    expect(first.banner).toMatch(/^listening on 127\.0\.0\.1:\d+$/m);

    const second = await startHermitServe(['--state-dir', stateDir]);
    expect(await second.stop()).toBe(0);
    expect(second.output().stderr).not.toContain('generated host key');
    expect(second.banner.split('\n').filter((l) => l.includes('SHA256:'))).toEqual(expected);
  });

  it('defaults to $XDG_STATE_HOME/hermit', async () => {
    const xdg = await scratch('xdg');
    const serve = await startHermitServe([], { ...process.env, XDG_STATE_HOME: xdg });
    expect(await serve.stop()).toBe(0);
    const fp = await fingerprintOf(join(xdg, 'hermit', 'ssh_host_ed25519_key'));
    expect(serve.banner).toContain(`256 ${fp} ${join(xdg, 'hermit', 'ssh_host_ed25519_key')} (ED25519)`);
  });
});
