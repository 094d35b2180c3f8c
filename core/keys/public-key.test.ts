import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { DisconnectReason, SshProtocolError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import { SshWriter } from '../wire/writer.ts';
import { decodeBase64 } from './base64.ts';
import {
  encodePublicKeyBlob,
  parsePublicKeyBlob,
  publicKeysEqual,
  rsaPublicKey,
  ecdsaPublicKey,
  ed25519PublicKey,
  type PublicKey,
} from './public-key.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
const pubBlob = (name: string) => decodeBase64(fixture(`${name}.pub`).split(' ')[1]!);

const FIXTURES = [
  ['ed25519', 'ssh-ed25519'],
  ['ecdsa-256', 'ecdsa-sha2-nistp256'],
  ['ecdsa-384', 'ecdsa-sha2-nistp384'],
  ['ecdsa-521', 'ecdsa-sha2-nistp521'],
  ['rsa-2048', 'ssh-rsa'],
  ['rsa-3072', 'ssh-rsa'],
] as const;

function expectInvalid(blob: Uint8Array, options?: { minRsaBits: number }): SshProtocolError {
  let caught: unknown;
  try {
    parsePublicKeyBlob(blob, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SshProtocolError);
  const err = caught as SshProtocolError;
  expect(err.code).toBe('HOST_KEY_INVALID');
  expect(err.reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
  return err;
}

const blobOf = (build: (w: SshWriter) => void) => {
  const w = new SshWriter();
  build(w);
  return w.finish().slice();
};

describe('parsePublicKeyBlob', () => {
  it.each(FIXTURES)('parses the ssh-keygen %s key and re-encodes it byte for byte', (name, type) => {
    const blob = pubBlob(name);
    const key = parsePublicKeyBlob(blob);
    expect(key.type).toBe(type);
    expect(key.blob).toEqual(blob);
    expect(encodePublicKeyBlob(key)).toEqual(blob);
    if (key.type === 'ssh-ed25519') expect(key.key.length).toBe(32);
    if (key.type === 'ssh-rsa') expect(key.e).toBe(65537n);
    if (key.type !== 'ssh-ed25519' && key.type !== 'ssh-rsa') {
      expect(key.curve).toBe({ 'ecdsa-256': 'p256', 'ecdsa-384': 'p384', 'ecdsa-521': 'p521' }[name as string]);
      expect(key.point[0]).toBe(4);
    }
  });

  it.each(FIXTURES)('rejects every truncation of the %s blob', (name) => {
    const blob = pubBlob(name);
    for (let n = 0; n < blob.length; n++) expectInvalid(blob.subarray(0, n));
  });

  it.each(FIXTURES)('rejects the %s blob with a trailing byte', (name) => {
    const blob = pubBlob(name);
    const longer = new Uint8Array(blob.length + 1);
    longer.set(blob);
    expectInvalid(longer);
  });

  it('rejects an ECDSA blob whose curve identifier contradicts its type', () => {
    const p256 = parsePublicKeyBlob(pubBlob('ecdsa-256'));
    if (p256.type !== 'ecdsa-sha2-nistp256') throw new Error('fixture');
    const wrong = blobOf((w) => w.string('ecdsa-sha2-nistp256').string('nistp384').string(p256.point));
    expect(expectInvalid(wrong).message).toMatch(/nistp384/);
  });

  it('rejects a P-384 point under the P-256 type and vice versa', () => {
    const p384 = parsePublicKeyBlob(pubBlob('ecdsa-384'));
    if (p384.type !== 'ecdsa-sha2-nistp384') throw new Error('fixture');
    expectInvalid(blobOf((w) => w.string('ecdsa-sha2-nistp256').string('nistp256').string(p384.point)));
  });

  it('rejects points off the curve, compressed points and the point at infinity', () => {
    const key = parsePublicKeyBlob(pubBlob('ecdsa-256'));
    if (key.type !== 'ecdsa-sha2-nistp256') throw new Error('fixture');
    const offCurve = key.point.slice();
    offCurve[offCurve.length - 1]! ^= 1;
    expectInvalid(blobOf((w) => w.string(key.type).string('nistp256').string(offCurve)));
    const compressed = key.point.slice(0, 33);
    compressed[0] = 2 + (key.point[64]! & 1);
    expectInvalid(blobOf((w) => w.string(key.type).string('nistp256').string(compressed)));
    expectInvalid(blobOf((w) => w.string(key.type).string('nistp256').string(new Uint8Array([0]))));
    const zeros = new Uint8Array(65);
    zeros[0] = 4;
    expectInvalid(blobOf((w) => w.string(key.type).string('nistp256').string(zeros)));
  });

  it('rejects Ed25519 keys that are not 32 bytes', () => {
    for (const n of [0, 31, 33, 64]) expectInvalid(blobOf((w) => w.string('ssh-ed25519').string(new Uint8Array(n))));
  });

  it('rejects unknown and unsupported key types with the type in the message', () => {
    expect(expectInvalid(blobOf((w) => w.string('ssh-dss').mpint(7n))).message).toMatch(/ssh-dss/);
    expectInvalid(blobOf((w) => w.string('ssh-ed25519-cert-v01@openssh.com').string(new Uint8Array(32))));
    expectInvalid(blobOf((w) => w.string('ssh-ed\x0025519').string(new Uint8Array(32))));
    expectInvalid(new Uint8Array(0));
  });

  it('enforces the RSA modulus size, configurably', () => {
    const n768 = (1n << 767n) | 12345n | 1n;
    const small = blobOf((w) => w.string('ssh-rsa').mpint(65537n).mpint(n768));
    expect(expectInvalid(small).message).toMatch(/768 bits, the minimum is 1024/);
    expect(parsePublicKeyBlob(small, { minRsaBits: 512 }).type).toBe('ssh-rsa');
    expectInvalid(pubBlob('rsa-2048'), { minRsaBits: 3072 });
    expect(parsePublicKeyBlob(pubBlob('rsa-3072'), { minRsaBits: 3072 }).type).toBe('ssh-rsa');
    const huge = blobOf((w) => w.string('ssh-rsa').mpint(65537n).mpint((1n << 16400n) | 1n));
    expectInvalid(huge);
  });

  it('rejects RSA keys with even or tiny exponents, even moduli and non-minimal mpints', () => {
    const rsa = parsePublicKeyBlob(pubBlob('rsa-2048'));
    if (rsa.type !== 'ssh-rsa') throw new Error('fixture');
    expectInvalid(blobOf((w) => w.string('ssh-rsa').mpint(65536n).mpint(rsa.n)));
    expectInvalid(blobOf((w) => w.string('ssh-rsa').mpint(1n).mpint(rsa.n)));
    expectInvalid(blobOf((w) => w.string('ssh-rsa').mpint(65537n).mpint(rsa.n + 1n)));
    const padded = blobOf((w) => w.string('ssh-rsa').string(new Uint8Array([0, 1, 0, 1])).mpint(rsa.n));
    expectInvalid(padded);
    const negative = blobOf((w) => w.string('ssh-rsa').mpint(65537n).string(new Uint8Array([0x80, 1])));
    expectInvalid(negative);
  });
});

describe('public key constructors', () => {
  it('build the same keys as the parser', () => {
    const keys = FIXTURES.map(([name]) => parsePublicKeyBlob(pubBlob(name)));
    const rebuilt = keys.map((k): PublicKey => {
      switch (k.type) {
        case 'ssh-ed25519':
          return ed25519PublicKey(k.key);
        case 'ssh-rsa':
          return rsaPublicKey(k.n, k.e);
        default:
          return ecdsaPublicKey(k.curve, k.point);
      }
    });
    keys.forEach((k, i) => expect(publicKeysEqual(k, rebuilt[i]!)).toBe(true));
    expect(publicKeysEqual(keys[0]!, keys[1]!)).toBe(false);
  });
});

describe('parsePublicKeyBlob on mutated input', () => {
  it('either parses or throws HOST_KEY_INVALID, never anything else', () => {
    const random = seededRandom('public key mutations');
    for (const [name] of FIXTURES) {
      const blob = pubBlob(name);
      for (let i = 0; i < 300; i++) {
        const [a, b, c] = random(3);
        const mutated = blob.slice(0, blob.length - (a! % 3 === 0 ? b! % 8 : 0));
        mutated[(b! * 256 + c!) % mutated.length]! ^= 1 << (a! % 8);
        try {
          const key = parsePublicKeyBlob(mutated);
          expect(encodePublicKeyBlob(key)).toEqual(mutated);
        } catch (err) {
          expect(err).toBeInstanceOf(SshProtocolError);
          expect((err as SshProtocolError).code).toBe('HOST_KEY_INVALID');
        }
      }
    }
  });
});
