import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { encodeBase64 } from './base64.ts';
import { KeyFormatError, type KeyFormatErrorCode } from './errors.ts';
import { parsePublicKeyLine } from './format.ts';
import {
  evpBytesToKeyMd5,
  findPemBlock,
  formatPem,
  parseTraditionalPemPrivateKey,
  pemHeader,
  serializeTraditionalPemPrivateKey,
} from './pem.ts';
import { parseOpenSshPrivateKey } from './private-key.ts';
import { expectKeyError } from './tests/expect-key-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/formats/${name}`, import.meta.url), 'utf8');
const PASS = 'correct horse battery';
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('PEM armour', () => {
  it('reads headers and body, and formats 64-column lines', () => {
    const block = findPemBlock(fixture('rsa-2048.pem-des3'), ['RSA PRIVATE KEY'])!;
    expect(pemHeader(block, 'proc-type')).toBe('4,ENCRYPTED');
    expect(pemHeader(block, 'DEK-Info')).toMatch(/^DES-EDE3-CBC,[0-9A-F]{16}$/);
    const plain = fixture('ecdsa-256.pem');
    const b = findPemBlock(plain, ['EC PRIVATE KEY'])!;
    expect(b.headers).toEqual([]);
    expect(formatPem('EC PRIVATE KEY', b.body)).toBe(plain);
  });

  it('accepts CRLF and surrounding text, and returns null when the label is absent', () => {
    const crlf = `junk\r\n${fixture('ecdsa-256.pem').replace(/\n/g, '\r\n')}more junk`;
    expect(findPemBlock(crlf, ['EC PRIVATE KEY'])!.body.length).toBeGreaterThan(100);
    expect(findPemBlock(fixture('ecdsa-256.pem'), ['PRIVATE KEY'])).toBeNull();
  });

  it('explains a missing END line, an empty body and bad base64', () => {
    const text = fixture('ecdsa-256.pem');
    expectKeyError(() => findPemBlock(text.replace(/-----END.*/, ''), ['EC PRIVATE KEY'], 'k.pem'), 'KEY_FORMAT_INVALID', /k\.pem: .*END EC PRIVATE KEY.*truncated/);
    expectKeyError(() => findPemBlock('-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----\n', ['EC PRIVATE KEY']), 'KEY_FORMAT_INVALID', /empty/);
    expectKeyError(() => findPemBlock('-----BEGIN EC PRIVATE KEY-----\nAB*D\n-----END EC PRIVATE KEY-----\n', ['EC PRIVATE KEY']), 'KEY_FORMAT_INVALID', /base64/);
    expectKeyError(() => findPemBlock('-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nbad header\n\nAAAA\n-----END EC PRIVATE KEY-----\n', ['EC PRIVATE KEY']), 'KEY_FORMAT_INVALID', /header/);
  });
});

describe('EVP_BytesToKey (MD5, one iteration)', () => {
  // From `openssl enc -aes-256-cbc -pass pass:hermit -S 0102030405060708 -P -md md5`: key ‖ iv.
  it('matches OpenSSL', () => {
    const out = evpBytesToKeyMd5(new TextEncoder().encode('hermit'), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 48);
    expect(toHex(out)).toBe('faf576a75aa7037ea575147a57233127df9a082448901d85c960dfa11525afb2719f4aa5f3e4ed0d230fd2d8e32a52ad');
    expect(toHex(evpBytesToKeyMd5(new TextEncoder().encode('hermit'), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 24))).toBe(
      'faf576a75aa7037ea575147a57233127df9a082448901d85',
    );
  });
});

describe('traditional PEM private keys', () => {
  it.each(['ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'])('%s: writes what ssh-keygen -m PEM wrote, byte for byte', (name) => {
    const key = parseOpenSshPrivateKey(fixture(name))[0]!;
    expect(serializeTraditionalPemPrivateKey(key)).toBe(fixture(`${name}.pem`));
    const back = parseTraditionalPemPrivateKey(fixture(`${name}.pem`))!;
    expect(back.publicKey.blob).toEqual(parsePublicKeyLine(fixture(`${name}.pub`)).key.blob);
  });

  it('has no Ed25519 form', () => {
    expect(() => serializeTraditionalPemPrivateKey(parseOpenSshPrivateKey(fixture('ed25519'))[0]!)).toThrow(/PKCS#8/);
  });

  it('returns null for other labels', () => {
    expect(parseTraditionalPemPrivateKey(fixture('rsa-2048.pkcs8'))).toBeNull();
  });

  it('refuses unknown DEK-Info ciphers with advice, and malformed DEK-Info', () => {
    const text = fixture('ecdsa-256.pem-encrypted');
    expectKeyError(() => parseTraditionalPemPrivateKey(text.replace('AES-128-CBC', 'AES-128-CFB'), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', /AES-128-CFB.*ssh-keygen -p/);
    expectKeyError(() => parseTraditionalPemPrivateKey(text.replace(/DEK-Info: .*/, 'DEK-Info: AES-128-CBC'), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /DEK-Info/);
    expectKeyError(() => parseTraditionalPemPrivateKey(text.replace(/DEK-Info: AES-128-CBC,(..)/, 'DEK-Info: AES-128-CBC,'), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /IV/);
    expectKeyError(() => parseTraditionalPemPrivateKey(text.replace(/DEK-Info: .*\n/, ''), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /no DEK-Info/);
  });

  it('says which file needs a passphrase', () => {
    expectKeyError(() => parseTraditionalPemPrivateKey(fixture('rsa-2048.pem-aes256'), { source: 'id_rsa' }), 'KEY_ENCRYPTED', /^id_rsa is a PEM RSA private key protected by a passphrase/);
  });

  it('refuses explicit curve parameters, other curves and multi-prime RSA with advice', () => {
    // SEC1 with specifiedCurve: a SEQUENCE where the OID would be ([0] { SEQUENCE {} }).
    const der = Uint8Array.from([0x30, 0x0b, 0x02, 0x01, 0x01, 0x04, 0x02, 0x01, 0x02, 0xa0, 0x02, 0x30, 0x00]);
    expectKeyError(() => parseTraditionalPemPrivateKey(formatPem('EC PRIVATE KEY', der)), 'KEY_FORMAT_UNSUPPORTED', /param_enc named_curve/);
    // secp256k1 (1.3.132.0.10).
    const k1 = Uint8Array.from([0x30, 0x10, 0x02, 0x01, 0x01, 0x04, 0x01, 0x01, 0xa0, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a]);
    k1[1] = k1.length - 2;
    expectKeyError(() => parseTraditionalPemPrivateKey(formatPem('EC PRIVATE KEY', k1)), 'KEY_TYPE_UNSUPPORTED', /1\.3\.132\.0\.10.*P-256/);
    const multi = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]);
    expectKeyError(() => parseTraditionalPemPrivateKey(formatPem('RSA PRIVATE KEY', multi)), 'KEY_TYPE_UNSUPPORTED', /multi-prime/);
  });

  it('detects a public key that does not match the private one, and inconsistent RSA', () => {
    const a = findPemBlock(fixture('ecdsa-256.pem'), ['EC PRIVATE KEY'])!.body.slice();
    a[a.length - 1]! ^= 1;
    expectKeyError(() => parseTraditionalPemPrivateKey(formatPem('EC PRIVATE KEY', a)), 'KEY_FORMAT_INVALID', /public key|not on curve/);
    const rsa = parseOpenSshPrivateKey(fixture('rsa-2048'))[0]!;
    if (rsa.type !== 'ssh-rsa') throw new Error('fixture');
    const bad = serializeTraditionalPemPrivateKey({ ...rsa, rsa: { ...rsa.rsa, iqmp: rsa.rsa.iqmp + 1n } });
    expectKeyError(() => parseTraditionalPemPrivateKey(bad, { source: 'k' }), 'KEY_FORMAT_INVALID', /k: RSA private key is inconsistent/);
  });

  it('malformed DER names the structure', () => {
    expectKeyError(() => parseTraditionalPemPrivateKey(formatPem('RSA PRIVATE KEY', Uint8Array.from([0x30, 0x80]))), 'KEY_FORMAT_INVALID', /RSAPrivateKey.*indefinite/);
    expectKeyError(() => parseTraditionalPemPrivateKey(`-----BEGIN EC PRIVATE KEY-----\n${encodeBase64(Uint8Array.from([0x30, 0x00]))}\n-----END EC PRIVATE KEY-----\n`), 'KEY_FORMAT_INVALID', /ECPrivateKey/);
  });
});
