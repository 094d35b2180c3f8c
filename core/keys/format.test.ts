import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { KeyFormatError } from './errors.ts';
import {
  fingerprint,
  fingerprintMd5,
  fingerprintSha256,
  formatFingerprintLine,
  formatPublicKeyLine,
  keyBits,
  keyTypeLabel,
  parsePublicKeyLine,
} from './format.ts';
import { parseOpenSshPrivateKey } from './private-key.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
const NAMES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048', 'rsa-3072'] as const;
const BITS = { ed25519: 256, 'ecdsa-256': 256, 'ecdsa-384': 384, 'ecdsa-521': 521, 'rsa-2048': 2048, 'rsa-3072': 3072 };

describe('fingerprints match ssh-keygen -l', () => {
  it.each(NAMES)('%s: SHA256, MD5, bits and type label', (name) => {
    const { key, comment } = parsePublicKeyLine(fixture(`${name}.pub`));
    const sha = fixture(`${name}.fp-sha256`).trim();
    const md5 = fixture(`${name}.fp-md5`).trim();
    expect(formatFingerprintLine(key, comment)).toBe(sha);
    expect(formatFingerprintLine(key, comment, 'md5')).toBe(md5);
    expect(sha.split(' ')[1]).toBe(fingerprintSha256(key.blob));
    expect(md5.split(' ')[1]).toBe(fingerprintMd5(key.blob));
    expect(fingerprint(key.blob)).toBe(fingerprintSha256(key.blob));
    expect(keyBits(key)).toBe(BITS[name]);
    expect(sha.endsWith(`(${keyTypeLabel(key)})`)).toBe(true);
  });

  it('prints "no comment" like ssh-keygen when there is none', () => {
    const { key } = parsePublicKeyLine(fixture('ed25519.pub'));
    expect(formatFingerprintLine(key)).toMatch(/^256 SHA256:\S+ no comment \(ED25519\)$/);
  });

  it('has no base64 padding in SHA256 fingerprints and 16 hex pairs in MD5', () => {
    const fp = fingerprintSha256(new Uint8Array(0));
    expect(fp).toBe('SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(fingerprintMd5(new Uint8Array(0))).toBe('MD5:d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e');
  });
});

describe('public key lines', () => {
  it.each(NAMES)('%s.pub parses and formats back to the same line', (name) => {
    const line = fixture(`${name}.pub`).trim();
    const { key, comment } = parsePublicKeyLine(line);
    expect(comment).toBe(`hermit-fixture-${name}`);
    expect(formatPublicKeyLine(key, comment)).toBe(line);
    expect(key.blob).toEqual(parseOpenSshPrivateKey(fixture(name))[0]!.publicKey.blob);
  });

  it('keeps comments with spaces, tolerates tabs and CRLF, and formats without a trailing space', () => {
    const [type, b64] = fixture('ed25519.pub').trim().split(' ');
    const parsed = parsePublicKeyLine(`${type}\t${b64}   alice@laptop  (work key)\r\n`);
    expect(parsed.comment).toBe('alice@laptop  (work key)');
    expect(parsePublicKeyLine(`${type} ${b64}`).comment).toBe('');
    expect(formatPublicKeyLine(parsed.key)).toBe(`${type} ${b64}`);
    expect(formatPublicKeyLine(parsed.key, '')).toBe(`${type} ${b64}`);
    expect(() => formatPublicKeyLine(parsed.key, 'two\nlines')).toThrow(RangeError);
  });

  it('rejects malformed lines with a KeyFormatError', () => {
    const [type, b64] = fixture('ecdsa-256.pub').trim().split(' ');
    const cases: [string, string, RegExp][] = [
      ['', 'KEY_FORMAT_INVALID', /<type> <base64>/],
      [`${type}`, 'KEY_FORMAT_INVALID', /<type> <base64>/],
      [`${type} ${b64!.slice(0, -1)}`, 'KEY_FORMAT_INVALID', /base64/],
      [`${type} ${b64!.slice(0, -4)}`, 'KEY_FORMAT_INVALID', /truncated/],
      [`ssh-ed25519 ${b64}`, 'KEY_FORMAT_INVALID', /says "ssh-ed25519" but the key inside is ecdsa-sha2-nistp256/],
      ['ssh-dss AAAAB3NzaC1kc3MAAAABAQ==', 'KEY_TYPE_UNSUPPORTED', /ssh-dss/],
    ];
    for (const [line, code, message] of cases) {
      let caught: unknown;
      try {
        parsePublicKeyLine(line);
      } catch (err) {
        caught = err;
      }
      expect(caught, line).toBeInstanceOf(KeyFormatError);
      expect((caught as KeyFormatError).code).toBe(code);
      expect((caught as KeyFormatError).message).toMatch(message);
    }
  });
});
