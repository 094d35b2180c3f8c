import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { seededRandom } from '../random.ts';
import { DerReader, derInteger, derNull, derOctetString, derOid, derSequence, readDer, TAG } from './der.ts';
import { KeyFormatError, type KeyFormatErrorCode } from './errors.ts';
import { findPemBlock, formatPem } from './pem.ts';
import {
  DEFAULT_PBKDF2_ITERATIONS,
  MAX_PBKDF2_ITERATIONS,
  encodePrivateKeyInfo,
  parsePkcs8PrivateKey,
  serializePkcs8PrivateKey,
} from './pkcs8.ts';
import { generatePrivateKey, parseOpenSshPrivateKey, type PrivateKey } from './private-key.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { expectKeyError } from './tests/expect-key-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/formats/${name}`, import.meta.url), 'utf8');
const PASS = 'correct horse battery';
const NAMES = ['ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const;
const opensshKey = (name: string) => ({ ...parseOpenSshPrivateKey(fixture(name))[0]!, comment: '' }) as PrivateKey;

describe('PKCS#8 writing', () => {
  it.each(NAMES)('%s: unencrypted output is byte for byte what ssh-keygen -m PKCS8 wrote', (name) => {
    expect(serializePkcs8PrivateKey(opensshKey(name), seededRandom('x'))).toBe(fixture(`${name}.pkcs8`));
  });

  it('Ed25519: byte for byte what openssl genpkey wrote', () => {
    const key = parsePkcs8PrivateKey(fixture('ed25519-openssl.pkcs8'))!;
    expect(serializePkcs8PrivateKey(key, seededRandom('x'))).toBe(fixture('ed25519-openssl.pkcs8'));
  });

  it.each([...NAMES, 'ed25519'])('%s: encrypted with PBES2 / PBKDF2-SHA256 / AES-256-CBC and read back', (name) => {
    const key = opensshKey(name);
    const text = serializePkcs8PrivateKey(key, seededRandom(name), { passphrase: PASS, iterations: 1000 });
    expect(text).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(parsePkcs8PrivateKey(text, { passphrase: PASS })).toEqual(key);
    expectKeyError(() => parsePkcs8PrivateKey(text, { passphrase: 'x' }), 'KEY_PASSPHRASE_WRONG');
  });

  it('writes the PBES2 structure RFC 8018 describes, with the default iteration count', () => {
    const text = serializePkcs8PrivateKey(opensshKey('ecdsa-256'), seededRandom('s'), { passphrase: PASS });
    const r = readDer(findPemBlock(text, ['ENCRYPTED PRIVATE KEY'])!.body, TAG.SEQUENCE, 't');
    const alg = r.sequence();
    expect(alg.oid()).toBe('1.2.840.113549.1.5.13');
    const params = alg.sequence();
    const kdf = params.sequence();
    expect(kdf.oid()).toBe('1.2.840.113549.1.5.12');
    const p = kdf.sequence();
    expect(p.octetString().length).toBe(16);
    expect(p.smallInteger(1e9)).toBe(DEFAULT_PBKDF2_ITERATIONS);
    const prf = p.sequence();
    expect(prf.oid()).toBe('1.2.840.113549.2.9');
    prf.null();
    const enc = params.sequence();
    expect(enc.oid()).toBe('2.16.840.1.101.3.4.1.42');
    expect(enc.octetString().length).toBe(16);
    expect(r.octetString().length % 16).toBe(0);
  });

  it('an empty passphrase writes an unencrypted key; bad iteration counts are refused', () => {
    expect(serializePkcs8PrivateKey(opensshKey('ecdsa-256'), seededRandom('e'), { passphrase: '' })).toMatch(/BEGIN PRIVATE KEY/);
    expect(() => serializePkcs8PrivateKey(opensshKey('ecdsa-256'), seededRandom('e'), { passphrase: PASS, iterations: 0 })).toThrow(/iterations/);
    expect(() => serializePkcs8PrivateKey(opensshKey('ecdsa-256'), seededRandom('e'), { passphrase: PASS, iterations: MAX_PBKDF2_ITERATIONS + 1 })).toThrow(/iterations/);
  });

  it('round-trips generated keys of every type', () => {
    for (const type of ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521'] as const) {
      const key = generatePrivateKey(type, seededRandom(type), pureCrypto);
      expect(parsePkcs8PrivateKey(serializePkcs8PrivateKey(key, seededRandom('w')))).toEqual(key);
    }
  });
});

describe('PKCS#8 reading', () => {
  const ed = parsePkcs8PrivateKey(fixture('ed25519-openssl.pkcs8'))! as Extract<PrivateKey, { type: 'ssh-ed25519' }>;
  const pem = (der: Uint8Array) => formatPem('PRIVATE KEY', der);

  it('accepts an RFC 8410 v2 key with a matching public key, and refuses a mismatched one', () => {
    const v2 = (pub: Uint8Array) =>
      derSequence(derInteger(1), derSequence(derOid('1.3.101.112')), derOctetString(derOctetString(ed.seed)), new Uint8Array([0x81, 33, 0, ...pub]));
    expect(parsePkcs8PrivateKey(pem(v2(ed.publicKey.key)))!.publicKey.blob).toEqual(ed.publicKey.blob);
    const wrong = ed.publicKey.key.slice();
    wrong[0]! ^= 1;
    expectKeyError(() => parsePkcs8PrivateKey(pem(v2(wrong))), 'KEY_FORMAT_INVALID', /does not match/);
  });

  it('skips attributes', () => {
    const withAttrs = derSequence(derInteger(0), derSequence(derOid('1.3.101.112')), derOctetString(derOctetString(ed.seed)), new Uint8Array([0xa0, 0]));
    expect(parsePkcs8PrivateKey(pem(withAttrs))!.publicKey.blob).toEqual(ed.publicKey.blob);
  });

  it('names unsupported key algorithms', () => {
    for (const [oid, name] of [
      ['1.2.840.10040.4.1', 'DSA'],
      ['1.3.101.113', 'Ed448'],
      ['1.3.101.110', 'X25519'],
      ['1.2.840.113549.1.1.10', 'RSASSA-PSS'],
      ['1.2.3.4', '1\\.2\\.3\\.4'],
    ] as const) {
      const der = derSequence(derInteger(0), derSequence(derOid(oid)), derOctetString(new Uint8Array(4)));
      expectKeyError(() => parsePkcs8PrivateKey(pem(der)), 'KEY_TYPE_UNSUPPORTED', new RegExp(`${name}.*not supported`));
    }
  });

  it('refuses a wrong-sized Ed25519 key and trailing bytes', () => {
    const short = derSequence(derInteger(0), derSequence(derOid('1.3.101.112')), derOctetString(derOctetString(ed.seed.subarray(1))));
    expectKeyError(() => parsePkcs8PrivateKey(pem(short)), 'KEY_FORMAT_INVALID', /31 bytes, expected 32/);
    const trailing = new Uint8Array([...encodePrivateKeyInfo(ed), 0]);
    expectKeyError(() => parsePkcs8PrivateKey(pem(trailing)), 'KEY_FORMAT_INVALID', /trailing/);
  });

  it('reads the PBKDF2 PRF default (SHA-1) when the PRF is omitted', () => {
    const r = readDer(findPemBlock(fixture('rsa-2048.pkcs8-aes256-sha1'), ['ENCRYPTED PRIVATE KEY'])!.body, TAG.SEQUENCE, 't');
    const alg = r.sequence();
    expect(alg.oid()).toBe('1.2.840.113549.1.5.13');
    const kdf = alg.sequence().sequence();
    expect(kdf.oid()).toBe('1.2.840.113549.1.5.12');
    const kdfParams = kdf.sequence();
    kdfParams.octetString();
    kdfParams.integer();
    expect(kdfParams.done).toBe(true);
  });

  /** Build an EncryptedPrivateKeyInfo around arbitrary PBES2 pieces. */
  const encrypted = (kdf: Uint8Array, enc: Uint8Array, outer = '1.2.840.113549.1.5.13') =>
    formatPem('ENCRYPTED PRIVATE KEY', derSequence(derSequence(derOid(outer), derSequence(kdf, enc)), derOctetString(new Uint8Array(32))));
  const pbkdf2 = (iterations: number, prf = '1.2.840.113549.2.9') =>
    derSequence(derOid('1.2.840.113549.1.5.12'), derSequence(derOctetString(new Uint8Array(8)), derInteger(iterations), derSequence(derOid(prf), derNull())));
  const aes256 = derSequence(derOid('2.16.840.1.101.3.4.1.42'), derOctetString(new Uint8Array(16)));

  it('refuses absurd iteration counts before deriving anything', () => {
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(2 ** 40), aes256), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /iteration count 1099511627776 is above the limit/);
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(5000), aes256), { passphrase: PASS, maxPbkdf2Iterations: 4000 }), 'KEY_FORMAT_INVALID', /limit of 4000/);
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(0), aes256), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /at least 1/);
  });

  it('refuses other schemes, KDFs, PRFs and ciphers with a conversion command', () => {
    const advice = /openssl pkcs8 -topk8 -v2 aes-256-cbc/;
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(1), aes256, '1.2.840.113549.1.5.3'), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', /PBES1/);
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(1), aes256, '1.2.840.113549.1.12.1.3'), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', advice);
    const scrypt = derSequence(derOid('1.3.6.1.4.1.11591.4.11'), derSequence(derOctetString(new Uint8Array(8)), derInteger(16384), derInteger(8), derInteger(1)));
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(scrypt, aes256), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', /scrypt/);
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(1, '1.2.643.7.1.1.4.2'), aes256), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', /PRF 1\.2\.643/);
    const aesGcm = derSequence(derOid('2.16.840.1.101.3.4.1.46'), derSequence(derOctetString(new Uint8Array(12))));
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(1), aesGcm), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', /cipher 2\.16\.840\.1\.101\.3\.4\.1\.46/);
    const shortIv = derSequence(derOid('2.16.840.1.101.3.4.1.42'), derOctetString(new Uint8Array(8)));
    expectKeyError(() => parsePkcs8PrivateKey(encrypted(pbkdf2(1), shortIv), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /IV is 8 bytes/);
  });

  it('needs a passphrase for an encrypted key, and says so naming the file', () => {
    expectKeyError(() => parsePkcs8PrivateKey(fixture('ecdsa-256.pkcs8-encrypted'), { source: 'k.p8' }), 'KEY_ENCRYPTED', /^k\.p8 is a PKCS#8 private key protected by a passphrase/);
  });

  it('DerReader sees what ssh-keygen -m PKCS8 -N writes', () => {
    const body = findPemBlock(fixture('ecdsa-256.pkcs8-encrypted'), ['ENCRYPTED PRIVATE KEY'])!.body;
    const r = new DerReader(body).sequence().sequence();
    expect(r.oid()).toBe('1.2.840.113549.1.5.13');
  });
});
