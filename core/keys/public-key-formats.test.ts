import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { encodeBase64 } from './base64.ts';
import { derBitString, derNull, derOid, derSequence } from './der.ts';
import { KeyFormatError, type KeyFormatErrorCode } from './errors.ts';
import { parsePublicKeyLine } from './format.ts';
import { formatPem } from './pem.ts';
import {
  encodeSpki,
  formatPkcs1RsaPublicKeyPem,
  formatRfc4716PublicKey,
  formatSpkiPem,
  parsePemPublicKey,
  parseRfc4716PublicKey,
  parseSpki,
} from './public-key-formats.ts';
import type { PublicKey } from './public-key.ts';
import { expectKeyError } from './tests/expect-key-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/formats/${name}`, import.meta.url), 'utf8');
const TYPES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const;
const pub = (name: string): PublicKey => parsePublicKeyLine(fixture(`${name}.pub`)).key;
const utf8Length = (s: string) => new TextEncoder().encode(s).length;

describe('RFC 4716', () => {
  it.each(TYPES)('%s: reads ssh-keygen -e output and writes it back byte for byte', (name) => {
    const text = fixture(`${name}.rfc4716.pub`);
    const parsed = parseRfc4716PublicKey(text);
    expect(parsed.key.blob).toEqual(pub(name).blob);
    expect(parsed.headers).toEqual([['Comment', `"${parsed.comment}"`]]);
    expect(formatRfc4716PublicKey(parsed.key, parsed.comment)).toBe(text);
  });

  it('folds long headers within 72 bytes and reads them back', () => {
    const comment = `${'ключ '.repeat(40)}end`; // multi-byte characters straddle fold points
    const text = formatRfc4716PublicKey(pub('ed25519'), comment, [['x-note', 'n'.repeat(300)]]);
    for (const line of text.split('\n')) expect(utf8Length(line)).toBeLessThanOrEqual(72);
    expect(text.split('\n').filter((l) => l.endsWith('\\')).length).toBeGreaterThan(5);
    const back = parseRfc4716PublicKey(text);
    expect(back.comment).toBe(comment);
    expect(back.headers[1]).toEqual(['x-note', 'n'.repeat(300)]);
    expect(back.key.blob).toEqual(pub('ed25519').blob);
  });

  it('a header exactly 72 bytes long is not folded', () => {
    const comment = 'c'.repeat(72 - 'Comment: ""'.length);
    const text = formatRfc4716PublicKey(pub('ed25519'), comment);
    expect(text.split('\n')[1]).toBe(`Comment: "${comment}"`);
    expect(parseRfc4716PublicKey(text).comment).toBe(comment);
  });

  it('accepts unquoted comments, CRLF, case-insensitive tags and no headers at all', () => {
    const b64 = encodeBase64(pub('ecdsa-256').blob);
    const text = `---- BEGIN SSH2 PUBLIC KEY ----\r\nSubject: me\r\ncomment: my laptop\r\n${b64.slice(0, 60)}\r\n${b64.slice(60)}\r\n---- END SSH2 PUBLIC KEY ----\r\n`;
    const parsed = parseRfc4716PublicKey(text);
    expect(parsed.comment).toBe('my laptop');
    expect(parsed.headers).toEqual([
      ['Subject', 'me'],
      ['comment', 'my laptop'],
    ]);
    expect(parseRfc4716PublicKey(`---- BEGIN SSH2 PUBLIC KEY ----\n${b64}\n---- END SSH2 PUBLIC KEY ----\n`).comment).toBe('');
  });

  it('refuses malformed files with a reason', () => {
    const good = fixture('ed25519.rfc4716.pub');
    expectKeyError(() => parseRfc4716PublicKey(good.replace('---- END SSH2 PUBLIC KEY ----', ''), { source: 'k' }), 'KEY_FORMAT_INVALID', /k: .*END SSH2 PUBLIC KEY.*truncated/);
    expectKeyError(() => parseRfc4716PublicKey('---- BEGIN SSH2 PUBLIC KEY ----\nComment: x\\'), 'KEY_FORMAT_INVALID', /truncated/);
    expectKeyError(() => parseRfc4716PublicKey(`---- BEGIN SSH2 PUBLIC KEY ----\n${'t'.repeat(65)}: v\nAAAA\n---- END SSH2 PUBLIC KEY ----`), 'KEY_FORMAT_INVALID', /header tag/);
    expectKeyError(() => parseRfc4716PublicKey(`---- BEGIN SSH2 PUBLIC KEY ----\nx: ${'v'.repeat(1025)}\nAAAA\n---- END SSH2 PUBLIC KEY ----`), 'KEY_FORMAT_INVALID', /longer than 1024/);
    expectKeyError(() => parseRfc4716PublicKey('---- BEGIN SSH2 PUBLIC KEY ----\n---- END SSH2 PUBLIC KEY ----'), 'KEY_FORMAT_INVALID', /no key data/);
    expectKeyError(() => parseRfc4716PublicKey('---- BEGIN SSH2 PUBLIC KEY ----\nA*AA\n---- END SSH2 PUBLIC KEY ----'), 'KEY_FORMAT_INVALID', /base64/);
    expectKeyError(() => parseRfc4716PublicKey(`---- BEGIN SSH2 PUBLIC KEY ----\n${encodeBase64(new Uint8Array([0, 0, 0, 7, 115, 115, 104, 45, 100, 115, 115]))}\n---- END SSH2 PUBLIC KEY ----`), 'KEY_TYPE_UNSUPPORTED', /ssh-dss/);
    expectKeyError(() => parseRfc4716PublicKey('ssh-ed25519 AAAA'), 'KEY_FORMAT_UNSUPPORTED', /not an RFC 4716/);
  });

  it('refuses headers it cannot write', () => {
    expect(() => formatRfc4716PublicKey(pub('ed25519'), 'a\nb')).toThrow(/line break/);
    expect(() => formatRfc4716PublicKey(pub('ed25519'), '', [['bad tag', 'v']])).toThrow(/tag/);
    expect(() => formatRfc4716PublicKey(pub('ed25519'), 'x'.repeat(1023))).toThrow(/1024/);
  });
});

describe('SPKI and PKCS#1 public keys', () => {
  it.each(['ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'])('%s: reads ssh-keygen -e -m PKCS8 output and writes it byte for byte', (name) => {
    const text = fixture(`${name}.spki.pem`);
    expect(parsePemPublicKey(text)!.blob).toEqual(pub(name).blob);
    expect(formatSpkiPem(pub(name))).toBe(text);
  });

  it('Ed25519: byte for byte what openssl pkey -pubout wrote', () => {
    const text = fixture('ed25519-openssl.spki.pem');
    const key = parsePemPublicKey(text)!;
    expect(key.type).toBe('ssh-ed25519');
    expect(formatSpkiPem(key)).toBe(text);
  });

  it('RSA PUBLIC KEY: reads and writes ssh-keygen -e -m PEM output', () => {
    const text = fixture('rsa-2048.pkcs1-public.pem');
    expect(parsePemPublicKey(text)!.blob).toEqual(pub('rsa-2048').blob);
    expect(formatPkcs1RsaPublicKeyPem(pub('rsa-2048'))).toBe(text);
    expect(() => formatPkcs1RsaPublicKeyPem(pub('ed25519'))).toThrow(/only RSA/);
  });

  it('expands compressed EC points', () => {
    const key = pub('ecdsa-256');
    if (key.type !== 'ecdsa-sha2-nistp256') throw new Error('fixture');
    const compressed = p256.Point.fromBytes(key.point).toBytes(true);
    const der = derSequence(derSequence(derOid('1.2.840.10045.2.1'), derOid('1.2.840.10045.3.1.7')), derBitString(compressed));
    expect(parseSpki(der).blob).toEqual(key.blob);
    const off = compressed.slice();
    off[5]! ^= 0xff;
    expect(() => parseSpki(derSequence(derSequence(derOid('1.2.840.10045.2.1'), derOid('1.2.840.10045.3.1.7')), derBitString(off)))).toThrow(KeyFormatError);
  });

  it('refuses bad keys with KeyFormatError naming the source', () => {
    const rsaAlg = derSequence(derOid('1.2.840.113549.1.1.1'), derNull());
    expectKeyError(() => parseSpki(derSequence(rsaAlg, derBitString(new Uint8Array([0x30, 0x00]))), { source: 'k.pem' }), 'KEY_FORMAT_INVALID', /k\.pem/);
    const edAlg = derSequence(derOid('1.3.101.112'));
    expectKeyError(() => parseSpki(derSequence(edAlg, derBitString(new Uint8Array(31)))), 'KEY_FORMAT_INVALID', /31 bytes/);
    const ecAlg = derSequence(derOid('1.2.840.10045.2.1'), derOid('1.2.840.10045.3.1.7'));
    expectKeyError(() => parseSpki(derSequence(ecAlg, derBitString(new Uint8Array(65).fill(4)))), 'KEY_FORMAT_INVALID', /not on curve/);
    expectKeyError(() => parsePemPublicKey(formatPem('PUBLIC KEY', new Uint8Array([0x30, 0x81]))), 'KEY_FORMAT_INVALID', /malformed public key/);
    expectKeyError(() => parsePemPublicKey(formatPem('RSA PUBLIC KEY', new Uint8Array([0x31, 0x00]))), 'KEY_FORMAT_INVALID', /RSA PUBLIC KEY/);
    expect(parsePemPublicKey(fixture('ed25519.pub'))).toBeNull();
  });

  it('honours the RSA size policy', () => {
    expectKeyError(() => parsePemPublicKey(fixture('rsa-2048.spki.pem'), { minRsaBits: 3072 }), 'KEY_FORMAT_INVALID', /2048 bits, the minimum is 3072/);
  });

  it('encodeSpki and parseSpki agree for every type', () => {
    for (const name of TYPES) expect(parseSpki(encodeSpki(pub(name))).blob).toEqual(pub(name).blob);
  });
});
