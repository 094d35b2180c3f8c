import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { seededRandom } from '../random.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { KeyFormatError, type KeyFormatErrorCode } from './errors.ts';
import { parsePublicKeyLine } from './format.ts';
import { DEFAULT_KDF_ROUNDS, MAX_KDF_ROUNDS, OPENSSH_KEY_CIPHERS, type OpenSshKeyCipher } from './openssh-encryption.ts';
import { parseOpenSshPrivateKey, serializeOpenSshPrivateKey } from './private-key.ts';
import { expectKeyError } from './tests/expect-key-error.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/formats/${name}`, import.meta.url), 'utf8');
const PASS = 'correct horse battery';
const TYPES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const;
const CIPHERS = Object.keys(OPENSSH_KEY_CIPHERS) as OpenSshKeyCipher[];

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';
const binaryOf = (text: string) => decodeBase64(text.replace(BEGIN, '').replace(END, '').replace(/\s+/g, ''));
const armour = (bytes: Uint8Array) => `${BEGIN}\n${encodeBase64(bytes).replace(/(.{70})/g, '$1\n')}\n${END}\n`;

/** Header fields of a file, to rebuild it with one part changed. */
function explode(text: string) {
  const r = new SshReader(binaryOf(text));
  const magic = r.raw(15);
  const cipher = r.ascii();
  const kdf = r.ascii();
  const kdfOptions = r.string();
  const count = r.uint32();
  const publicKeys = Array.from({ length: count }, () => r.string());
  const section = r.string();
  const tag = r.rest();
  return { magic, cipher, kdf, kdfOptions, count, publicKeys, section, tag };
}
function rebuild(parts: ReturnType<typeof explode>): string {
  const w = new SshWriter().raw(parts.magic).string(parts.cipher).string(parts.kdf).string(parts.kdfOptions).uint32(parts.count);
  for (const pk of parts.publicKeys) w.string(pk);
  w.string(parts.section).raw(parts.tag);
  return armour(w.finish());
}

describe('encrypted openssh-key-v1 made by ssh-keygen', () => {
  // Each type with each cipher ssh-keygen -Z accepts here: decrypting them proves bcrypt_pbkdf
  // and every cipher mode against OpenSSH's own output.
  for (const type of TYPES) {
    it.each(CIPHERS)(`${type} with %s decrypts to the key in its .pub`, (cipher) => {
      const text = fixture(`${type}.openssh-${cipher}`);
      expect(explode(text).cipher).toBe(cipher);
      const [key] = parseOpenSshPrivateKey(text, { passphrase: PASS });
      const pub = parsePublicKeyLine(fixture(`${type}.pub`));
      expect(key!.publicKey.blob).toEqual(pub.key.blob);
      expect(key!.comment).toBe(`hermit-formats-${type}`);
    });
  }

  it.each(TYPES)('%s with ssh-keygen defaults (aes256-ctr, 16 rounds) decrypts; a Uint8Array passphrase works too', (type) => {
    const text = fixture(`${type}.openssh-default`);
    const parts = explode(text);
    expect([parts.cipher, parts.kdf]).toEqual(['aes256-ctr', 'bcrypt']);
    const opts = new SshReader(parts.kdfOptions);
    expect(opts.string().length).toBe(16);
    expect(opts.uint32()).toBe(16);
    const [key] = parseOpenSshPrivateKey(text, { passphrase: new TextEncoder().encode(PASS) });
    expect(key!.publicKey.blob).toEqual(parsePublicKeyLine(fixture(`${type}.pub`)).key.blob);
  });

  it.each(CIPHERS)('%s: a wrong passphrase is KEY_PASSPHRASE_WRONG, never a garbage key', (cipher) => {
    const err = expectKeyError(
      () => parseOpenSshPrivateKey(fixture(`ed25519.openssh-${cipher}`), { passphrase: 'correct horse battery!', source: '/keys/id' }),
      'KEY_PASSPHRASE_WRONG',
      /incorrect passphrase/,
    );
    expect(err.message).toContain('/keys/id');
  });

  it('without a passphrase says one is needed (KEY_ENCRYPTED), naming cipher, kdf and rounds', () => {
    for (const passphrase of [undefined, '', new Uint8Array(0)]) {
      const err = expectKeyError(
        () => parseOpenSshPrivateKey(fixture('ed25519.openssh-default'), passphrase === undefined ? { source: '/home/me/.ssh/id' } : { source: '/home/me/.ssh/id', passphrase }),
        'KEY_ENCRYPTED',
        /a passphrase is needed/,
      );
      expect(err.message).toMatch(/aes256-ctr.*bcrypt.*16 rounds/);
      expect(err.message).toContain("ssh-keygen -p -N '' -f /home/me/.ssh/id.plain");
    }
  });
});

describe('serializeOpenSshPrivateKey with a passphrase', () => {
  const key = parseOpenSshPrivateKey(fixture('ecdsa-256'))[0]!;

  it('defaults to aes256-ctr with bcrypt and 16 rounds, like ssh-keygen', () => {
    const text = serializeOpenSshPrivateKey(key, seededRandom('enc'), { passphrase: PASS });
    const parts = explode(text);
    expect([parts.cipher, parts.kdf]).toEqual(['aes256-ctr', 'bcrypt']);
    const opts = new SshReader(parts.kdfOptions);
    expect(opts.string().length).toBe(16);
    expect(opts.uint32()).toBe(DEFAULT_KDF_ROUNDS);
    expect(parts.section.length % 16).toBe(0);
    const [back] = parseOpenSshPrivateKey(text, { passphrase: PASS });
    expect(back).toEqual(key);
  });

  it.each(CIPHERS)('round-trips with %s', (cipher) => {
    const text = serializeOpenSshPrivateKey(key, seededRandom(cipher), { passphrase: PASS, cipher, rounds: 2 });
    const parts = explode(text);
    expect(parts.cipher).toBe(cipher);
    expect(parts.tag.length).toBe(OPENSSH_KEY_CIPHERS[cipher].tagLength);
    expect(parts.section.length % OPENSSH_KEY_CIPHERS[cipher].blockSize).toBe(0);
    expect(parseOpenSshPrivateKey(text, { passphrase: PASS })[0]).toEqual(key);
    expectKeyError(() => parseOpenSshPrivateKey(text, { passphrase: 'nope' }), 'KEY_PASSPHRASE_WRONG');
  });

  it('is unencrypted with an empty passphrase, and deterministic for a seeded source', () => {
    expect(explode(serializeOpenSshPrivateKey(key, seededRandom('x'), { passphrase: '' })).cipher).toBe('none');
    const a = serializeOpenSshPrivateKey(key, seededRandom('same'), { passphrase: PASS, rounds: 1 });
    const b = serializeOpenSshPrivateKey(key, seededRandom('same'), { passphrase: PASS, rounds: 1 });
    expect(a).toBe(b);
  });

  it('refuses bad rounds and unknown ciphers', () => {
    expect(() => serializeOpenSshPrivateKey(key, seededRandom('r'), { passphrase: PASS, rounds: 0 })).toThrow(/rounds/);
    expect(() => serializeOpenSshPrivateKey(key, seededRandom('r'), { passphrase: PASS, rounds: MAX_KDF_ROUNDS + 1 })).toThrow(/rounds/);
    expect(() => serializeOpenSshPrivateKey(key, seededRandom('r'), { passphrase: PASS, cipher: 'rc4' as OpenSshKeyCipher })).toThrow(/cipher/);
  });
});

describe('damaged or hostile encrypted files', () => {
  const text = fixture('ed25519.openssh-aes256-gcm@openssh.com');

  it('refuses absurd bcrypt round counts before doing any work', () => {
    const parts = explode(text);
    const salt = new SshReader(parts.kdfOptions).string();
    const hostile = rebuild({ ...parts, kdfOptions: new SshWriter().string(salt).uint32(0xffffffff).finish() });
    const err = expectKeyError(() => parseOpenSshPrivateKey(hostile, { passphrase: PASS }), 'KEY_FORMAT_INVALID', /4294967295 bcrypt rounds.*limit of 65536/);
    expect(err.message).toMatch(/ssh-keygen -p -a 64/);
    expectKeyError(() => parseOpenSshPrivateKey(hostile), 'KEY_FORMAT_INVALID', /limit/);
    const zero = rebuild({ ...parts, kdfOptions: new SshWriter().string(salt).uint32(0).finish() });
    expectKeyError(() => parseOpenSshPrivateKey(zero, { passphrase: PASS }), 'KEY_FORMAT_INVALID', /round count is 0/);
    const lowered = rebuild({ ...parts, kdfOptions: new SshWriter().string(salt).uint32(20).finish() });
    expectKeyError(() => parseOpenSshPrivateKey(lowered, { passphrase: PASS, maxKdfRounds: 10 }), 'KEY_FORMAT_INVALID', /limit of 10/);
  });

  it('rejects malformed kdf options, a missing tag, unknown ciphers and kdfs', () => {
    const parts = explode(text);
    expectKeyError(() => parseOpenSshPrivateKey(rebuild({ ...parts, kdfOptions: new Uint8Array(3) }), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /kdf options/);
    expectKeyError(() => parseOpenSshPrivateKey(rebuild({ ...parts, tag: parts.tag.subarray(0, 15) }), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /truncated/);
    expectKeyError(() => parseOpenSshPrivateKey(rebuild({ ...parts, cipher: 'blowfish-cbc' }), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', /blowfish-cbc.*ssh-keygen -p -Z aes256-ctr/);
    expectKeyError(() => parseOpenSshPrivateKey(rebuild({ ...parts, kdf: 'scrypt' }), { passphrase: PASS }), 'KEY_FORMAT_UNSUPPORTED', /scrypt/);
    expectKeyError(() => parseOpenSshPrivateKey(rebuild({ ...parts, kdf: 'none' }), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /inconsistent/);
    expectKeyError(() => parseOpenSshPrivateKey(rebuild({ ...parts, section: parts.section.subarray(0, 40) }), { passphrase: PASS }), 'KEY_FORMAT_INVALID', /block size/);
  });

  it('a flipped ciphertext bit under an AEAD cipher fails the tag', () => {
    const parts = explode(text);
    const section = parts.section.slice();
    section[5]! ^= 1;
    expectKeyError(() => parseOpenSshPrivateKey(rebuild({ ...parts, section }), { passphrase: PASS }), 'KEY_PASSPHRASE_WRONG', /tag/);
  });

  it('never throws anything but KeyFormatError for truncations of an encrypted file', () => {
    const bytes = binaryOf(fixture('rsa-2048.openssh-aes128-cbc'));
    for (let n = 0; n < bytes.length; n += 37) {
      expect(() => parseOpenSshPrivateKey(armour(bytes.subarray(0, n)), { passphrase: PASS, maxKdfRounds: 4 })).toThrow(KeyFormatError);
    }
  });
});
