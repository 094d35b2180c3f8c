import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { KeyFormatError, type KeyFormatErrorCode } from './errors.ts';
import { parsePublicKeyLine } from './format.ts';
import { isEncryptedPrivateKey, parsePrivateKey, parsePublicKey, privateKeyFormat } from './load.ts';
import { parseOpenSshPrivateKey, serializeOpenSshPrivateKey } from './private-key.ts';
import { seededRandom } from '../random.ts';
import type { PublicKey } from './public-key.ts';
import { expectKeyError } from './tests/expect-key-error.ts';

const DIR = new URL('../../fixtures/keys/formats/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, DIR), 'utf8');
const PASS = 'correct horse battery';
const FILES = readdirSync(DIR).filter((f) => f !== 'make.sh').sort();
const isPublic = (f: string) => f.endsWith('.pub') || f.endsWith('.spki.pem') || f.endsWith('public.pem');
const PRIVATE = FILES.filter((f) => !isPublic(f));
const PUBLIC = FILES.filter(isPublic);
const ENCRYPTED = PRIVATE.filter((f) => /\.(openssh|pem|pkcs8)-/.test(f));
const PLAIN = PRIVATE.filter((f) => !ENCRYPTED.includes(f));

/** The key every file derived from `base` must hold: its .pub line, or OpenSSL's SPKI for Ed25519. */
function expectedKey(file: string): PublicKey {
  const base = file.split('.')[0]!;
  if (base === 'ed25519-openssl') return parsePublicKey(fixture('ed25519-openssl.spki.pem')).key;
  return parsePublicKeyLine(fixture(`${base}.pub`)).key;
}

describe('the fixture set', () => {
  it('has every kind of file the tests below rely on', () => {
    expect(ENCRYPTED.length).toBeGreaterThanOrEqual(5 * 11 + 4 * 9 + 2);
    expect(PLAIN).toEqual(expect.arrayContaining(['ed25519', 'rsa-2048.pem', 'ecdsa-521.pkcs8', 'ed25519-openssl.pkcs8']));
    expect(PUBLIC).toEqual(expect.arrayContaining(['ed25519.rfc4716.pub', 'ecdsa-384.spki.pem', 'rsa-2048.pkcs1-public.pem']));
  });
});

describe('parsePrivateKey reads every fixture', () => {
  it.each(PLAIN)('%s (unencrypted)', (file) => {
    const text = fixture(file);
    expect(isEncryptedPrivateKey(text)).toBe(false);
    const key = parsePrivateKey(text, { source: file });
    expect(key.publicKey.blob).toEqual(expectedKey(file).blob);
    // A passphrase given for an unencrypted key is simply not needed.
    expect(parsePrivateKey(text, { passphrase: 'unused' }).publicKey.blob).toEqual(key.publicKey.blob);
  });

  it.each(ENCRYPTED)('%s (encrypted): right, wrong and missing passphrase', (file) => {
    const text = fixture(file);
    expect(isEncryptedPrivateKey(text)).toBe(true);
    const key = parsePrivateKey(text, { passphrase: PASS, source: file });
    expect(key.publicKey.blob).toEqual(expectedKey(file).blob);
    const wrong = expectKeyError(() => parsePrivateKey(text, { passphrase: 'Correct horse battery', source: `/keys/${file}` }), 'KEY_PASSPHRASE_WRONG', /incorrect passphrase/);
    expect(wrong.message).toContain(`/keys/${file}`);
    const missing = expectKeyError(() => parsePrivateKey(text, { source: `/keys/${file}` }), 'KEY_ENCRYPTED', /passphrase is needed/);
    expect(missing.message).toContain(`/keys/${file}`);
  });

  it('keeps comments from openssh-key-v1 files; PEM and PKCS#8 have none', () => {
    expect(parsePrivateKey(fixture('ecdsa-256')).comment).toBe('hermit-formats-ecdsa-256');
    expect(parsePrivateKey(fixture('ecdsa-256.pem')).comment).toBe('');
    expect(parsePrivateKey(fixture('ecdsa-256.pkcs8-aes128-sha256'), { passphrase: PASS }).comment).toBe('');
  });

  it('the same key in every format has the same private half', () => {
    const reference = parsePrivateKey(fixture('rsa-2048'));
    for (const file of PRIVATE.filter((f) => f.startsWith('rsa-2048'))) {
      const key = parsePrivateKey(fixture(file), { passphrase: PASS });
      expect({ ...key, comment: '' }).toEqual({ ...reference, comment: '' });
    }
  });

  it('names the format it sniffed', () => {
    expect(privateKeyFormat(fixture('ed25519.openssh-default'))).toBe('openssh');
    expect(privateKeyFormat(fixture('rsa-2048.pem-des3'))).toBe('pem-pkcs1');
    expect(privateKeyFormat(fixture('ecdsa-256.pem'))).toBe('pem-sec1');
    expect(privateKeyFormat(fixture('ed25519-openssl.pkcs8'))).toBe('pkcs8');
    expect(privateKeyFormat(fixture('ed25519-openssl.pkcs8-aes128-sha1'))).toBe('pkcs8-encrypted');
    expect(privateKeyFormat(fixture('ed25519.pub'))).toBeNull();
    // `openssl ecparam -genkey` puts an EC PARAMETERS block first.
    const withParams = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${fixture('ecdsa-256.pem')}`;
    expect(parsePrivateKey(withParams).publicKey.blob).toEqual(expectedKey('ecdsa-256').blob);
  });
});

describe('parsePrivateKey refuses what it cannot use, saying why', () => {
  it('public keys of every form', () => {
    for (const file of ['ed25519.pub', 'ed25519.rfc4716.pub', 'ecdsa-256.spki.pem', 'rsa-2048.pkcs1-public.pem']) {
      expectKeyError(() => parsePrivateKey(fixture(file), { source: file }), 'KEY_FORMAT_UNSUPPORTED', /is a public key/);
    }
  });

  it('DSA, PuTTY, ssh.com and unknown text', () => {
    expectKeyError(() => parsePrivateKey('-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n'), 'KEY_TYPE_UNSUPPORTED', /DSA/);
    expectKeyError(() => parsePrivateKey('PuTTY-User-Key-File-3: ssh-ed25519\n', { source: 'k.ppk' }), 'KEY_FORMAT_UNSUPPORTED', /puttygen k\.ppk/);
    expectKeyError(() => parsePrivateKey('---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n'), 'KEY_FORMAT_UNSUPPORTED', /ssh\.com.*ssh-keygen -i/);
    expectKeyError(() => parsePrivateKey('hello\n'), 'KEY_FORMAT_UNSUPPORTED', /ssh-keygen -t ed25519/);
    expectKeyError(() => parsePrivateKey('x'.repeat((1 << 20) + 1)), 'KEY_FORMAT_INVALID', /not a key/);
  });

  it('an openssh-key-v1 file with two keys', () => {
    const keys = [parsePrivateKey(fixture('ed25519')), parsePrivateKey(fixture('ecdsa-256'))];
    const two = serializeOpenSshPrivateKey(keys, seededRandom('two'));
    expect(parseOpenSshPrivateKey(two)).toHaveLength(2);
    expectKeyError(() => parsePrivateKey(two), 'KEY_FORMAT_UNSUPPORTED', /holds 2 keys; a key file must hold exactly one/);
  });

  // Every prefix of every plain fixture and a spread of byte flips: always a KeyFormatError.
  it.each(PLAIN)('truncations and corruptions of %s end in KeyFormatError', (file) => {
    const text = fixture(file);
    const lines = text.trimEnd().split('\n');
    for (let n = 1; n < lines.length; n++) {
      const cut = lines.slice(0, n).join('\n');
      expect(() => parsePrivateKey(cut)).toThrow(KeyFormatError);
    }
    const body = lines.slice(1, -1);
    for (let i = 0; i < body.length; i += Math.max(1, Math.floor(body.length / 8))) {
      const line = body[i]!;
      for (const at of [0, Math.floor(line.length / 2), line.length - 2]) {
        const ch = line[at] === 'A' ? 'B' : 'A';
        const damaged = [lines[0], ...body.slice(0, i), line.slice(0, at) + ch + line.slice(at + 1), ...body.slice(i + 1), lines.at(-1)].join('\n');
        try {
          parsePrivateKey(damaged);
        } catch (err) {
          expect(err).toBeInstanceOf(KeyFormatError);
        }
      }
    }
  });

  // CBC has no integrity check: damage in the last block shows as bad padding (and is reported as
  // a wrong passphrase, the likelier cause); damage elsewhere can only be caught by the structure.
  it.each(ENCRYPTED.filter((f) => !f.includes('openssh')))('a damaged last block of %s is KEY_PASSPHRASE_WRONG or KEY_FORMAT_INVALID', (file) => {
    const lines = fixture(file).trimEnd().split('\n');
    const last = lines.length - 2;
    const line = lines[last]!;
    const at = line.replace(/=+$/, '').length - 2;
    lines[last] = line.slice(0, at) + (line[at] === 'A' ? 'B' : 'A') + line.slice(at + 1);
    let caught: unknown;
    try {
      parsePrivateKey(lines.join('\n'), { passphrase: PASS });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KeyFormatError);
    expect(['KEY_PASSPHRASE_WRONG', 'KEY_FORMAT_INVALID']).toContain((caught as KeyFormatError).code);
  });
});

describe('parsePublicKey', () => {
  it.each(PUBLIC)('%s', (file) => {
    const { key, comment } = parsePublicKey(fixture(file), { source: file });
    if (!file.startsWith('ed25519-openssl')) expect(key.blob).toEqual(expectedKey(file).blob);
    if (file.endsWith('.rfc4716.pub')) expect(comment).toMatch(/^\d+-bit (ED25519|ECDSA|RSA), converted by .* from OpenSSH$/);
    if (/^[a-z0-9-]+\.pub$/.test(file)) expect(comment).toBe(`hermit-formats-${file.slice(0, -4)}`);
  });

  it('skips blank and # lines before a one-line key', () => {
    const { key, comment } = parsePublicKey(`\n# my key\n\n${fixture('ed25519.pub')}`);
    expect(key.type).toBe('ssh-ed25519');
    expect(comment).toBe('hermit-formats-ed25519');
  });

  it('says when it was given a private key, and how to get the public one', () => {
    expectKeyError(() => parsePublicKey(fixture('ed25519'), { source: 'id_ed25519' }), 'KEY_FORMAT_UNSUPPORTED', /private key.*ssh-keygen -y -f id_ed25519/);
    expectKeyError(() => parsePublicKey(fixture('rsa-2048.pkcs8-encrypted')), 'KEY_FORMAT_UNSUPPORTED', /private key/);
    expectKeyError(() => parsePublicKey('\n\n', { source: 'k.pub' }), 'KEY_FORMAT_INVALID', /k\.pub is empty/);
    expectKeyError(() => parsePublicKey('ssh-ed25519 !!!', { source: 'k.pub' }), 'KEY_FORMAT_INVALID', /k\.pub: .*base64/);
  });
});
