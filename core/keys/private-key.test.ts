import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { seededRandom } from '../random.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { KeyFormatError, type KeyFormatErrorCode } from './errors.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { nobleTestCrypto } from './tests/noble-test-crypto.ts';
import {
  ecdsaPrivateKey,
  ed25519PrivateKey,
  generatePrivateKey,
  parseOpenSshPrivateKey,
  rsaPrivateKey,
  serializeOpenSshPrivateKey,
  type GeneratableKeyType,
  type KeyDerivationCrypto,
  type PrivateKey,
} from './private-key.ts';
import { sign, signatureAlgorithmsForKey, verifySignature } from './signature.ts';
import { expectKeyError } from './tests/expect-key-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
const NAMES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048', 'rsa-3072'] as const;
const PROVIDERS: [string, KeyDerivationCrypto][] = [
  ['pure', pureCrypto],
  ['noble-test', nobleTestCrypto],
];

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';
const binaryOf = (text: string) => decodeBase64(text.replace(BEGIN, '').replace(END, '').replace(/\s+/g, ''));
const armour = (bytes: Uint8Array) => `${BEGIN}\n${encodeBase64(bytes).replace(/(.{70})/g, '$1\n')}\n${END}\n`;

/** The fields of a file, so tests can rebuild it with one part damaged. */
function explode(text: string) {
  const r = new SshReader(binaryOf(text));
  const magic = r.raw(15);
  const cipher = r.ascii();
  const kdf = r.ascii();
  const kdfOptions = r.string();
  const count = r.uint32();
  const publicKeys = Array.from({ length: count }, () => r.string());
  const section = r.string();
  r.end();
  return { magic, cipher, kdf, kdfOptions, count, publicKeys, section };
}
function implode(parts: ReturnType<typeof explode>, trailing = new Uint8Array(0)): string {
  const w = new SshWriter().raw(parts.magic).string(parts.cipher).string(parts.kdf).string(parts.kdfOptions).uint32(parts.count);
  for (const p of parts.publicKeys) w.string(p);
  w.string(parts.section).raw(trailing);
  return armour(w.finish());
}

describe('parseOpenSshPrivateKey on ssh-keygen fixtures', () => {
  it.each(NAMES)('reads %s and its public key equals the .pub file', (name) => {
    const keys = parseOpenSshPrivateKey(fixture(name));
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    const [type, b64, comment] = fixture(`${name}.pub`).trim().split(' ');
    expect(key.type).toBe(type);
    expect(key.comment).toBe(comment);
    expect(key.comment).toBe(`hermit-fixture-${name}`);
    expect(encodeBase64(key.publicKey.blob)).toBe(b64);
  });

  describe.each(PROVIDERS)('public key derivation (%s)', (_p, crypto) => {
    it.each(NAMES)('derives the %s public key from the private key alone', (name) => {
      const key = parseOpenSshPrivateKey(fixture(name))[0]!;
      let derived: PrivateKey;
      switch (key.type) {
        case 'ssh-ed25519':
          derived = ed25519PrivateKey(key.seed, crypto, key.comment);
          break;
        case 'ssh-rsa':
          derived = rsaPrivateKey({ ...key.rsa }, key.comment);
          break;
        default:
          derived = ecdsaPrivateKey(key.curve, key.d, crypto, key.comment);
          expect(key.d.length).toBe({ p256: 32, p384: 48, p521: 66 }[key.curve]);
      }
      expect(derived.publicKey.blob).toEqual(key.publicKey.blob);
    });
  });

  it.each(NAMES)('re-serialises %s byte for byte given the same check value', (name) => {
    const text = fixture(name);
    const check = explode(text).section.subarray(0, 4);
    const key = parseOpenSshPrivateKey(text)[0]!;
    expect(serializeOpenSshPrivateKey(key, () => check.slice())).toBe(text);
  });

  it('accepts CRLF line endings and surrounding text', () => {
    const text = `garbage before\r\n${fixture('ed25519').replace(/\n/g, '\r\n')}\r\n`;
    expect(parseOpenSshPrivateKey(text)[0]!.type).toBe('ssh-ed25519');
  });
});

describe('parseOpenSshPrivateKey errors', () => {
  it('says a passphrase is needed for a protected key and how to get around it', () => {
    const err = expectKeyError(
      () => parseOpenSshPrivateKey(fixture('ed25519-encrypted'), { source: '/home/me/.ssh/id_ed25519' }),
      'KEY_ENCRYPTED',
      /a passphrase is needed/,
    );
    expect(err.message).toMatch(/aes256-ctr/);
    expect(err.message).toMatch(/bcrypt/);
    expect(err.message).toContain("ssh-keygen -p -N '' -f /home/me/.ssh/id_ed25519.plain");
    // With the passphrase it decrypts to the key in the .pub next to it.
    const [key] = parseOpenSshPrivateKey(fixture('ed25519-encrypted'), { passphrase: 'correct horse' });
    expect(encodeBase64(key!.publicKey.blob)).toBe(fixture('ed25519-encrypted.pub').split(' ')[1]);
    expect(key!.comment).toBe('hermit-fixture-encrypted');
  });

  it('names other formats and says how to convert them', () => {
    expectKeyError(() => parseOpenSshPrivateKey('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n'), 'KEY_FORMAT_UNSUPPORTED', /PEM.*ssh-keygen -p -f/);
    expectKeyError(() => parseOpenSshPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'KEY_FORMAT_UNSUPPORTED', /PKCS#8/);
    expectKeyError(() => parseOpenSshPrivateKey('PuTTY-User-Key-File-3: ssh-ed25519\n'), 'KEY_FORMAT_UNSUPPORTED', /puttygen/);
    expectKeyError(() => parseOpenSshPrivateKey(fixture('ed25519.pub')), 'KEY_FORMAT_UNSUPPORTED', /public key.*without "\.pub"/);
    expectKeyError(() => parseOpenSshPrivateKey('hello'), 'KEY_FORMAT_UNSUPPORTED', /ssh-keygen -t ed25519/);
    expectKeyError(() => parseOpenSshPrivateKey(''), 'KEY_FORMAT_UNSUPPORTED');
  });

  it('rejects truncated files, bad base64 and bad magic', () => {
    const text = fixture('ed25519');
    expectKeyError(() => parseOpenSshPrivateKey(text.slice(0, text.indexOf(END))), 'KEY_FORMAT_INVALID', /truncated/);
    expectKeyError(() => parseOpenSshPrivateKey(text.replace('b3Bl', 'b3B!')), 'KEY_FORMAT_INVALID', /base64/);
    const bytes = binaryOf(text);
    for (let n = 0; n < bytes.length; n += 5) {
      expectKeyError(() => parseOpenSshPrivateKey(armour(bytes.subarray(0, n))), 'KEY_FORMAT_INVALID');
    }
    const badMagic = bytes.slice();
    badMagic[3]! ^= 0x20;
    expectKeyError(() => parseOpenSshPrivateKey(armour(badMagic)), 'KEY_FORMAT_INVALID', /magic/);
  });

  it('rejects trailing bytes, kdf options under "none", and zero keys', () => {
    const parts = explode(fixture('ecdsa-256'));
    expectKeyError(() => parseOpenSshPrivateKey(implode(parts, new Uint8Array([0]))), 'KEY_FORMAT_INVALID', /trailing/);
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, kdfOptions: new Uint8Array(4) })), 'KEY_FORMAT_INVALID', /options/);
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, count: 0, publicKeys: [] })), 'KEY_FORMAT_INVALID', /0 keys/);
  });

  it('rejects mismatched check values and wrong padding', () => {
    const parts = explode(fixture('ed25519'));
    const badCheck = parts.section.slice();
    badCheck[7]! ^= 1;
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, section: badCheck })), 'KEY_FORMAT_INVALID', /check values/);
    const badPad = parts.section.slice();
    badPad[badPad.length - 1]! ^= 0x40;
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, section: badPad })), 'KEY_FORMAT_INVALID', /padding/);
    const unaligned = parts.section.subarray(0, parts.section.length - 1);
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, section: unaligned })), 'KEY_FORMAT_INVALID', /padded/);
    const overPadded = new Uint8Array(parts.section.length + 8);
    overPadded.set(parts.section);
    const padStart = parts.section.length - (parts.section.at(-1) ?? 0);
    for (let i = padStart; i < overPadded.length; i++) overPadded[i] = i - padStart + 1;
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, section: overPadded })), 'KEY_FORMAT_INVALID', /padding/);
  });

  it('rejects a private key that does not match its public key', () => {
    const a = explode(fixture('ecdsa-256'));
    const b = explode(fixture('ecdsa-384'));
    const c = explode(generatedFile('ecdsa-256'));
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...a, publicKeys: b.publicKeys })), 'KEY_FORMAT_INVALID', /is ecdsa-sha2-nistp256 but its public key is ecdsa-sha2-nistp384/);
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...a, publicKeys: c.publicKeys })), 'KEY_FORMAT_INVALID', /does not match/);
    const e = explode(fixture('ed25519'));
    const e2 = explode(generatedFile('ed25519'));
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...e, publicKeys: e2.publicKeys })), 'KEY_FORMAT_INVALID', /does not match/);
    const r = explode(fixture('rsa-2048'));
    const r2 = explode(fixture('rsa-3072'));
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...r, publicKeys: r2.publicKeys })), 'KEY_FORMAT_INVALID', /does not match/);
  });

  it('rejects an RSA key whose private integers are inconsistent', () => {
    const key = parseOpenSshPrivateKey(fixture('rsa-2048'))[0]!;
    if (key.type !== 'ssh-rsa') throw new Error('fixture');
    expectKeyError(() => rsaPrivateKey({ ...key.rsa, d: key.rsa.d + 2n }), 'KEY_FORMAT_INVALID', /d does not invert e/);
    expectKeyError(() => rsaPrivateKey({ ...key.rsa, p: key.rsa.p + 2n }), 'KEY_FORMAT_INVALID', /n is not p·q/);
    expectKeyError(() => rsaPrivateKey({ ...key.rsa, iqmp: key.rsa.iqmp + 1n }), 'KEY_FORMAT_INVALID', /iqmp/);
  });

  it('names unsupported key types', () => {
    const parts = explode(fixture('ed25519'));
    const dss = new SshWriter().string('ssh-dss').mpint(23n).mpint(11n).mpint(4n).mpint(8n).finish();
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, publicKeys: [dss] })), 'KEY_TYPE_UNSUPPORTED', /ssh-dss/);
    const sk = new SshWriter().string('sk-ssh-ed25519@openssh.com').string(new Uint8Array(32)).string('ssh:').finish();
    expectKeyError(() => parseOpenSshPrivateKey(implode({ ...parts, publicKeys: [sk] })), 'KEY_TYPE_UNSUPPORTED', /sk-ssh-ed25519/);
  });

  it('rejects ECDSA scalars that are zero or not below the group order', () => {
    expectKeyError(() => ecdsaPrivateKey('p256', new Uint8Array(32), nobleTestCrypto), 'KEY_FORMAT_INVALID', /out of range/);
    expectKeyError(() => ecdsaPrivateKey('p256', new Uint8Array(32).fill(0xff), nobleTestCrypto), 'KEY_FORMAT_INVALID', /out of range/);
    expectKeyError(() => ecdsaPrivateKey('p256', new Uint8Array(33).fill(1), nobleTestCrypto), 'KEY_FORMAT_INVALID', /too long/);
    expectKeyError(() => ed25519PrivateKey(new Uint8Array(31), nobleTestCrypto), 'KEY_FORMAT_INVALID', /32 bytes/);
  });
});

function generatedFile(type: GeneratableKeyType): string {
  const random = seededRandom(`generated ${type}`);
  return serializeOpenSshPrivateKey(generatePrivateKey(type, random, nobleTestCrypto, `gen-${type}`), random);
}

describe('generatePrivateKey and serializeOpenSshPrivateKey', () => {
  const TYPES: GeneratableKeyType[] = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521'];

  it.each(TYPES)('generates %s keys that sign, serialise and parse back', (type) => {
    const random = seededRandom(`key ${type}`);
    const key = generatePrivateKey(type, random, nobleTestCrypto, 'me@host');
    expect(key.comment).toBe('me@host');
    const data = new TextEncoder().encode('payload');
    const alg = signatureAlgorithmsForKey(key.type)[0]!;
    expect(verifySignature(nobleTestCrypto, key.publicKey, alg, sign(nobleTestCrypto, key, alg, data), data)).toBe(true);

    const text = serializeOpenSshPrivateKey(key, random);
    expect(text.startsWith(`${BEGIN}\n`)).toBe(true);
    expect(text.endsWith(`\n${END}\n`)).toBe(true);
    for (const line of text.split('\n').slice(1, -2)) expect(line.length).toBeLessThanOrEqual(70);
    const back = parseOpenSshPrivateKey(text);
    expect(back).toEqual([key]);
  });

  it('is reproducible from a seeded random source and differs across seeds', () => {
    const a = generatePrivateKey('ecdsa-521', seededRandom('s'), nobleTestCrypto);
    const b = generatePrivateKey('ecdsa-521', seededRandom('s'), nobleTestCrypto);
    const c = generatePrivateKey('ecdsa-521', seededRandom('t'), nobleTestCrypto);
    expect(a.publicKey.blob).toEqual(b.publicKey.blob);
    expect(a.publicKey.blob).not.toEqual(c.publicKey.blob);
    if (a.type !== 'ecdsa-sha2-nistp521') throw new Error('type');
    expect(a.d.length).toBe(66);
    expect(a.d[0]! & 0xfe).toBe(0);
  });

  it('rejects out-of-range scalars from the random source and retries', () => {
    let calls = 0;
    const first = new Uint8Array(32).fill(0xff);
    const random = (n: number) => (calls++ === 0 ? first.slice(0, n) : seededRandom('retry')(n));
    const key = generatePrivateKey('ecdsa-256', random, nobleTestCrypto);
    expect(calls).toBe(2);
    expect(key.type).toBe('ecdsa-sha2-nistp256');
    expect(() => generatePrivateKey('ecdsa-256', (n) => new Uint8Array(n), nobleTestCrypto)).toThrow(/broken/);
  });

  it('writes and reads several keys in one file, keeping each comment', () => {
    const keys = NAMES.map((n) => parseOpenSshPrivateKey(fixture(n))[0]!);
    const text = serializeOpenSshPrivateKey(keys, seededRandom('multi'));
    expect(parseOpenSshPrivateKey(text)).toEqual(keys);
  });

  it('keeps a non-ASCII comment and an empty one', () => {
    const key = generatePrivateKey('ed25519', seededRandom('c'), nobleTestCrypto, 'ünïcödé ✓');
    expect(parseOpenSshPrivateKey(serializeOpenSshPrivateKey(key, seededRandom('x')))[0]!.comment).toBe('ünïcödé ✓');
    const bare = { ...key, comment: '' };
    expect(parseOpenSshPrivateKey(serializeOpenSshPrivateKey(bare, seededRandom('x')))[0]!.comment).toBe('');
  });
});

describe('parseOpenSshPrivateKey on mutated files', () => {
  it('either parses or throws KeyFormatError, never anything else', () => {
    const random = seededRandom('private key mutations');
    for (const name of NAMES) {
      const bytes = binaryOf(fixture(name));
      for (let i = 0; i < 150; i++) {
        const [a, b, c] = random(3);
        const mutated = bytes.slice();
        mutated[(b! * 256 + c!) % mutated.length]! ^= 1 << (a! % 8);
        try {
          parseOpenSshPrivateKey(armour(mutated));
        } catch (err) {
          expect(err).toBeInstanceOf(KeyFormatError);
        }
      }
    }
  });
});
