import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SshReader } from '../../core/index.ts';
import { decodeBase64, formatFingerprintLine, parsePublicKeyLine } from '../../core/keys/index.ts';
import { readPrivateKeyFile } from './keys.ts';
import { KEYGEN_HELP, runKeygen } from './keygen.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hermit-keygen-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function keygen(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runKeygen(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** cipher, kdf and rounds from an openssh-key-v1 file's header. */
function header(path: string): [string, string, number] {
  const text = readFileSync(path, 'utf8');
  const r = new SshReader(decodeBase64(text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')));
  r.raw(15);
  const cipher = r.ascii();
  const kdf = r.ascii();
  const options = new SshReader(r.string());
  const rounds = kdf === 'bcrypt' ? (options.string(), options.uint32()) : 0;
  return [cipher, kdf, rounds];
}

const CASES: [string, string[], string, number][] = [
  ['ed25519', ['-t', 'ed25519'], 'ssh-ed25519', 256],
  ['ecdsa', ['-t', 'ecdsa'], 'ecdsa-sha2-nistp256', 256],
  ['ecdsa-384', ['-t', 'ecdsa', '-b', '384'], 'ecdsa-sha2-nistp384', 384],
  ['ecdsa-521', ['-t', 'ecdsa', '-b', '521'], 'ecdsa-sha2-nistp521', 521],
  ['rsa-2048', ['-t', 'rsa', '-b', '2048'], 'ssh-rsa', 2048],
];

describe('hermit keygen makes keys ssh-keygen agrees with', () => {
  for (const withPassphrase of [false, true]) {
    it.each(CASES)(`%s ${withPassphrase ? 'with' : 'without'} -N`, async (name, args, type, bits) => {
      const file = join(dir, `${name}-${withPassphrase ? 'enc' : 'plain'}`);
      const passphrase = `pass for ${name}`;
      const { code, out, err } = await keygen(...args, '-C', `comment ${name}`, '-f', file, ...(withPassphrase ? ['-N', passphrase] : []));
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(`${file}.pub`).mode & 0o777).toBe(0o644);
      const pub = readFileSync(`${file}.pub`, 'utf8');
      const { key, comment } = parsePublicKeyLine(pub);
      expect(key.type).toBe(type);
      expect(comment).toBe(`comment ${name}`);
      // The fingerprint line we print is the one ssh-keygen -l prints, for the key and its .pub.
      const fingerprint = formatFingerprintLine(key, comment);
      expect(fingerprint.startsWith(`${bits} SHA256:`)).toBe(true);
      expect(out).toContain(`The key fingerprint is:\n${fingerprint}\n`);
      expect(out).toContain(`Your identification has been saved in ${file}\n`);
      expect(sshKeygen(['-l', '-f', `${file}.pub`]).trim()).toBe(fingerprint);
      expect(sshKeygen(['-l', '-f', file]).trim()).toBe(fingerprint);
      // ssh-keygen decrypts the private key and derives the same public key.
      expect(sshKeygen(['-y', '-P', withPassphrase ? passphrase : '', '-f', file]).trim()).toBe(pub.trim());
      expect(header(file)).toEqual(withPassphrase ? ['aes256-ctr', 'bcrypt', 16] : ['none', 'none', 0]);
      const keys = await readPrivateKeyFile(file, withPassphrase ? { passphrase } : {});
      expect(keys[0]!.publicKey.blob).toEqual(key.blob);
    });
  }

  it('rsa defaults to 3072 bits', async () => {
    const file = join(dir, 'rsa-default');
    const { code, out } = await keygen('-t', 'rsa', '-N', 'rsa passphrase', '-f', file);
    expect(code).toBe(0);
    expect(out).toMatch(/^Generating public\/private rsa key pair\.\n/);
    expect(sshKeygen(['-l', '-f', file]).trim()).toMatch(/^3072 SHA256:\S+ .* \(RSA\)$/);
    expect(sshKeygen(['-y', '-P', 'rsa passphrase', '-f', file]).trim()).toBe(readFileSync(`${file}.pub`, 'utf8').trim());
  }, 120_000);

  it('honours -a and -Z, bundled flags and attached values', async () => {
    const file = join(dir, 'chacha');
    const { code, out } = await keygen('-qtecdsa', '-b384', '-a', '4', '-Z', 'chacha20-poly1305@openssh.com', '-N', 'secret words', '-f', file);
    expect(code).toBe(0);
    expect(out).toBe('');
    expect(header(file)).toEqual(['chacha20-poly1305@openssh.com', 'bcrypt', 4]);
    expect(sshKeygen(['-y', '-P', 'secret words', '-f', file]).trim()).toBe(readFileSync(`${file}.pub`, 'utf8').trim());
    expect(parsePublicKeyLine(readFileSync(`${file}.pub`, 'utf8')).key.type).toBe('ecdsa-sha2-nistp384');
  });

  it('defaults to ed25519 in ~/.ssh/id_ed25519 with user@host as comment, creating ~/.ssh', async () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const { code, out } = await keygen();
      expect(code).toBe(0);
      expect(out).toContain(`Created directory '${join(home, '.ssh')}'.`);
      expect(statSync(join(home, '.ssh')).mode & 0o777).toBe(0o700);
      const { key, comment } = parsePublicKeyLine(readFileSync(join(home, '.ssh', 'id_ed25519.pub'), 'utf8'));
      expect(key.type).toBe('ssh-ed25519');
      expect(comment).toBe(`${userInfo().username}@${hostname()}`);
    } finally {
      if (saved === undefined) delete process.env.HOME;
      else process.env.HOME = saved;
    }
  });
});

describe('hermit keygen refuses, saying what to do', () => {
  it('never overwrites an existing key or .pub', async () => {
    const file = join(dir, 'existing');
    expect((await keygen('-f', file)).code).toBe(0);
    const before = readFileSync(file, 'utf8');
    const again = await keygen('-f', file, '-t', 'rsa');
    expect(again.code).toBe(1);
    expect(again.err).toContain(`hermit keygen: ${file} already exists`);
    expect(again.err).toContain(`rm ${file} ${file}.pub`);
    expect(again.out).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(before);
    rmSync(file);
    const pubOnly = await keygen('-f', file);
    expect(pubOnly.code).toBe(1);
    expect(pubOnly.err).toContain(`${file}.pub already exists`);
    expect(existsSync(file)).toBe(false);
  });

  it('explains a missing directory', async () => {
    const file = join(dir, 'no', 'such', 'dir', 'key');
    const { code, err } = await keygen('-f', file);
    expect(code).toBe(1);
    expect(err).toContain(`mkdir -p ${join(dir, 'no', 'such', 'dir')}`);
  });

  it('reports write failures as exit status 1', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const { code, err } = await keygen('-f', join(blocker, 'key'));
    expect(code).toBe(1);
    expect(err).toMatch(/^hermit keygen: /);
  });

  it.each([
    [['-t', 'dsa'], /DSA keys are not supported.*-t ed25519, -t ecdsa or -t rsa/],
    [['-t', 'ed25519-sk'], /security-key types are not supported/],
    [['-t', 'foo'], /unknown key type "foo"/],
    [['-t', 'ecdsa', '-b', '512'], /ECDSA keys are 256, 384 or 521 bits, not 512/],
    [['-t', 'rsa', '-b', '1024'], /RSA keys must be 2048 to 16384 bits, not 1024/],
    [['-t', 'rsa', '-b', '16385'], /RSA keys must be 2048 to 16384 bits, not 16385/],
    [['-t', 'rsa', '-b', 'big'], /-b wants a number of bits, not "big"/],
    [['-t', 'ed25519', '-b', '521'], /ed25519 keys are always 256 bits; leave out -b/],
    [['-a', '0'], /-a wants a number of bcrypt rounds from 1 to 65536/],
    [['-a', '100000'], /from 1 to 65536, not "100000"/],
    [['-Z', 'rc4'], /unknown cipher "rc4" for -Z; use one of .*aes256-ctr/],
    [['-x'], /unknown option -x/],
    [['--force'], /unknown option --force/],
    [['-f'], /option -f needs a value/],
    [['-f', ''], /-f needs a file name/],
    [['key'], /unexpected argument "key".*after -f/],
    [['-C', 'two\nlines'], /line break/],
  ])('%j is a usage error', async (argv, message) => {
    const { code, out, err } = await keygen(...(argv as string[]));
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
    expect(err).toContain("Try 'hermit keygen --help'");
  });

  it('--help and -h print the options', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, out, err } = await keygen(flag);
      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out).toBe(KEYGEN_HELP);
    }
    expect(KEYGEN_HELP).toMatch(/-t TYPE +ed25519 \(default\), ecdsa or rsa/);
  });
});
